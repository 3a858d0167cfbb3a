// HTML to the text a reader sees, for rules: one pass, no DOM.
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/charset.hpp"
#include "mail/mime.hpp"

namespace pmx::mail {

namespace {

using detail::append_utf8;

struct Entity {
    std::string_view name;
    char32_t cp;
};

enum class TagKind { Inline, Space, Break, Block, Paragraph, Raw };

// Names of up to 16 bytes as two integers: table lookups without string compares.
struct Key {
    std::uint64_t a = 0, b = 0;
    friend bool operator<(const Key& x, const Key& y) { return x.a != y.a ? x.a < y.a : x.b < y.b; }
    friend bool operator==(const Key& x, const Key& y) { return x.a == y.a && x.b == y.b; }
};

bool make_key(std::string_view s, Key& k) {
    if (s.empty() || s.size() > 16) return false;
    k = {};
    std::memcpy(&k.a, s.data(), std::min<std::size_t>(s.size(), 8));
    if (s.size() > 8) std::memcpy(&k.b, s.data() + 8, s.size() - 8);
    return true;
}

template <class V>
class KeyTable {
public:
    void add(std::string_view name, V v) {
        Key k;
        if (make_key(name, k)) entries_.push_back({k, v});
    }
    void sort() {
        std::sort(entries_.begin(), entries_.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    }
    const V* find(std::string_view name) const {
        Key k;
        if (!make_key(name, k)) return nullptr;
        auto it = std::lower_bound(entries_.begin(), entries_.end(), k,
                                   [](const std::pair<Key, V>& e, const Key& key) { return e.first < key; });
        return it != entries_.end() && it->first == k ? &it->second : nullptr;
    }

private:
    std::vector<std::pair<Key, V>> entries_;
};

// HTML 4 ISO-8859-1 names, U+00A0..U+00FF in order.
constexpr std::string_view kLatin1Names[] = {
    "nbsp", "iexcl", "cent", "pound", "curren", "yen", "brvbar", "sect", "uml", "copy", "ordf", "laquo",
    "not", "shy", "reg", "macr", "deg", "plusmn", "sup2", "sup3", "acute", "micro", "para", "middot",
    "cedil", "sup1", "ordm", "raquo", "frac14", "frac12", "frac34", "iquest", "Agrave", "Aacute", "Acirc",
    "Atilde", "Auml", "Aring", "AElig", "Ccedil", "Egrave", "Eacute", "Ecirc", "Euml", "Igrave", "Iacute",
    "Icirc", "Iuml", "ETH", "Ntilde", "Ograve", "Oacute", "Ocirc", "Otilde", "Ouml", "times", "Oslash",
    "Ugrave", "Uacute", "Ucirc", "Uuml", "Yacute", "THORN", "szlig", "agrave", "aacute", "acirc", "atilde",
    "auml", "aring", "aelig", "ccedil", "egrave", "eacute", "ecirc", "euml", "igrave", "iacute", "icirc",
    "iuml", "eth", "ntilde", "ograve", "oacute", "ocirc", "otilde", "ouml", "divide", "oslash", "ugrave",
    "uacute", "ucirc", "uuml", "yacute", "thorn", "yuml",
};
static_assert(std::size(kLatin1Names) == 96);

constexpr Entity kOtherEntities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}, {"Tab", '\t'}, {"NewLine", '\n'},
    {"euro", 0x20AC}, {"trade", 0x2122}, {"hellip", 0x2026}, {"mdash", 0x2014}, {"ndash", 0x2013},
    {"lsquo", 0x2018}, {"rsquo", 0x2019}, {"sbquo", 0x201A}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
    {"bdquo", 0x201E}, {"bull", 0x2022}, {"dagger", 0x2020}, {"Dagger", 0x2021}, {"permil", 0x2030},
    {"lsaquo", 0x2039}, {"rsaquo", 0x203A}, {"OElig", 0x152}, {"oelig", 0x153}, {"Scaron", 0x160},
    {"scaron", 0x161}, {"Yuml", 0x178}, {"fnof", 0x192}, {"circ", 0x2C6}, {"tilde", 0x2DC},
    {"ensp", 0x2002}, {"emsp", 0x2003}, {"thinsp", 0x2009}, {"zwnj", 0x200C}, {"zwj", 0x200D},
    {"lrm", 0x200E}, {"rlm", 0x200F}, {"ZeroWidthSpace", 0x200B}, {"NoBreak", 0x2060}, {"larr", 0x2190},
    {"uarr", 0x2191}, {"rarr", 0x2192}, {"darr", 0x2193}, {"harr", 0x2194}, {"minus", 0x2212},
    {"infin", 0x221E}, {"ne", 0x2260}, {"le", 0x2264}, {"ge", 0x2265}, {"prime", 0x2032}, {"Prime", 0x2033},
    {"hearts", 0x2665}, {"spades", 0x2660}, {"clubs", 0x2663}, {"diams", 0x2666}, {"check", 0x2713},
    {"star", 0x2606}, {"starf", 0x2605}, {"phone", 0x260E}, {"copysr", 0x2117}, {"alpha", 0x3B1},
    {"beta", 0x3B2}, {"pi", 0x3C0}, {"mu", 0x3BC}, {"Omega", 0x3A9}, {"omega", 0x3C9},
};

const char32_t* find_entity(std::string_view name) {
    static const KeyTable<char32_t> table = [] {
        KeyTable<char32_t> t;
        for (const auto& e : kOtherEntities) t.add(e.name, e.cp);
        for (std::size_t i = 0; i < std::size(kLatin1Names); ++i) t.add(kLatin1Names[i], char32_t(0xA0 + i));
        t.sort();
        return t;
    }();
    return table.find(name);
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_html_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// Bytes that end a run of plain text: markup, references, whitespace, controls, non-ASCII.
constexpr std::array<bool, 256> kSpecial = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c >= 0x80 || c == '<' || c == '&' || c == ' ';
    return t;
}();

bool is_invisible(char32_t cp) {
    return cp == 0xAD || (cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF;
}

// Text with whitespace collapsed: no leading or trailing whitespace, runs of spaces to one,
// at most two line breaks in a row.
class Writer {
public:
    explicit Writer(std::size_t reserve) { out_.reserve(reserve); }
    void space() { space_ = true; }
    void breaks(int n) { newlines_ = std::max(newlines_, n); }
    void add_break() { newlines_ = std::min(newlines_ + 1, 2); }
    void text(std::string_view s) {
        flush();
        out_.append(s);
    }
    void code_point(char32_t cp) {
        if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == 0xA0) return space();
        if (is_invisible(cp)) return;
        if (cp < 0x20 || cp == 0x7F) return space();
        flush();
        append_utf8(out_, cp);
    }
    std::string take() { return std::move(out_); }

private:
    void flush() {
        if (!out_.empty()) {
            if (newlines_ > 0) out_.append(static_cast<std::size_t>(newlines_), '\n');
            else if (space_) out_.push_back(' ');
        }
        newlines_ = 0;
        space_ = false;
    }
    std::string out_;
    int newlines_ = 0;
    bool space_ = false;
};


TagKind classify(std::string_view name) {
    static const KeyTable<TagKind> table = [] {
        KeyTable<TagKind> t;
        for (auto n : {"script", "style", "template", "noembed", "noframes", "xmp"}) t.add(n, TagKind::Raw);
        for (auto n : {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol", "dl", "hr"})
            t.add(n, TagKind::Paragraph);
        for (auto n : {"div", "tr", "li", "dt", "dd", "title", "section", "article", "header", "footer", "nav",
                       "aside", "form", "fieldset", "address", "center", "main", "figure", "figcaption", "caption",
                       "thead", "tbody", "tfoot", "body", "html", "head", "option", "legend", "details", "summary",
                       "menu"})
            t.add(n, TagKind::Block);
        for (auto n : {"td", "th", "img"}) t.add(n, TagKind::Space);
        t.add("br", TagKind::Break);
        t.sort();
        return t;
    }();
    const TagKind* k = table.find(name);
    return k ? *k : TagKind::Inline;
}

// Position after the end tag "</name" ... ">" (case-insensitive), or html.size().
std::size_t skip_raw_text(std::string_view html, std::size_t i, std::string_view name) {
    while (i < html.size()) {
        const void* lt = std::memchr(html.data() + i, '<', html.size() - i);
        if (!lt) return html.size();
        i = static_cast<std::size_t>(static_cast<const char*>(lt) - html.data()) + 1;
        if (i >= html.size() || html[i] != '/') continue;
        std::size_t k = 0;
        while (k < name.size() && i + 1 + k < html.size() && lower(html[i + 1 + k]) == name[k]) ++k;
        if (k < name.size()) continue;
        std::size_t after = i + 1 + k;
        if (after < html.size() && is_alnum(html[after])) continue;  // "</scripts"
        const void* gt = std::memchr(html.data() + after, '>', html.size() - after);
        return gt ? static_cast<std::size_t>(static_cast<const char*>(gt) - html.data()) + 1 : html.size();
    }
    return html.size();
}

// At '&': decodes a character reference into w and returns the position after it, or returns
// `i` unchanged when it is none (the '&' is then text).
std::size_t char_ref(std::string_view html, std::size_t i, Writer& w) {
    std::size_t j = i + 1;
    if (j < html.size() && html[j] == '#') {
        ++j;
        bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
        if (hex) ++j;
        std::size_t digits = j;
        char32_t cp = 0;
        bool overflow = false;
        while (j < html.size()) {
            char c = html[j];
            int d = (c >= '0' && c <= '9') ? c - '0'
                    : hex && c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : hex && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                  : -1;
            if (d < 0) break;
            if (!overflow) cp = cp * (hex ? 16 : 10) + static_cast<char32_t>(d);
            if (cp > 0x10FFFF) overflow = true;
            ++j;
        }
        if (j == digits) return i;
        if (j < html.size() && html[j] == ';') ++j;
        if (overflow || cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
        else if (cp >= 0x80 && cp < 0xA0) cp = detail::cp1252_to_unicode(static_cast<unsigned char>(cp));
        w.code_point(cp);
        return j;
    }
    while (j < html.size() && j - i <= 32 && is_alnum(html[j])) ++j;
    std::string_view name = html.substr(i + 1, j - i - 1);
    if (name.empty()) return i;
    if (j < html.size() && html[j] == ';') {
        if (const char32_t* cp = find_entity(name)) {
            w.code_point(*cp);
            return j + 1;
        }
    }
    // Without ';' only the old names pages still write that way, also as a prefix ("&lt3").
    static constexpr Entity legacy[] = {{"nbsp", 0xA0}, {"quot", '"'}, {"copy", 0xA9}, {"amp", '&'},
                                        {"reg", 0xAE}, {"lt", '<'}, {"gt", '>'}};
    for (const auto& e : legacy) {
        if (name.substr(0, e.name.size()) != e.name) continue;
        w.code_point(e.cp);
        return i + 1 + e.name.size();
    }
    return i;
}

}  // namespace

std::string html_to_text(std::string_view html) {
    Writer w(html.size() / 2);
    std::size_t i = 0, n = html.size();
    while (i < n) {
        // Text up to the next markup, entity, whitespace or non-ASCII byte.
        std::size_t run = i;
        for (;;) {  // a single space between two plain characters needs no collapsing: part of the run
            while (run < n && !kSpecial[static_cast<unsigned char>(html[run])]) ++run;
            if (run > i && run + 1 < n && html[run] == ' ' && !kSpecial[static_cast<unsigned char>(html[run + 1])]) ++run;
            else break;
        }
        if (run > i) {
            w.text(html.substr(i, run - i));
            i = run;
            continue;
        }
        auto c = static_cast<unsigned char>(html[i]);
        if (is_html_space(static_cast<char>(c)) || c < 0x20) {
            w.space();
            ++i;
        } else if (c >= 0x80) {  // one UTF-8 sequence: some are spaces or invisible
            std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            len = std::min(len, n - i);
            auto b1 = len > 1 ? static_cast<unsigned char>(html[i + 1]) : 0;
            auto b2 = len > 2 ? static_cast<unsigned char>(html[i + 2]) : 0;
            if (c == 0xC2 && b1 == 0xA0) w.space();  // U+00A0
            else if ((c == 0xC2 && b1 == 0xAD) || (c == 0xE2 && b1 == 0x80 && b2 >= 0x8B && b2 <= 0x8D) ||
                     (c == 0xE2 && b1 == 0x81 && b2 == 0xA0) || (c == 0xEF && b1 == 0xBB && b2 == 0xBF))
                ;  // U+00AD, U+200B..U+200D, U+2060, U+FEFF
            else w.text(html.substr(i, len));
            i += len;
        } else if (c == '&') {
            std::size_t j = char_ref(html, i, w);
            if (j == i) {
                w.text("&");
                ++i;
            } else {
                i = j;
            }
        } else {  // '<'
            std::size_t j = i + 1;
            if (j < n && html[j] == '!') {
                if (html.substr(j, 3) == "!--") {
                    std::size_t end = html.find("-->", j + 3);
                    i = end == std::string_view::npos ? n : end + 3;
                } else {  // <!DOCTYPE ...>, <![CDATA[...]]> (a bogus comment in HTML)
                    std::size_t end = html.find('>', j);
                    i = end == std::string_view::npos ? n : end + 1;
                }
                continue;
            }
            if (j < n && html[j] == '?') {
                std::size_t end = html.find('>', j);
                i = end == std::string_view::npos ? n : end + 1;
                continue;
            }
            bool end_tag = j < n && html[j] == '/';
            if (end_tag) ++j;
            if (j >= n || !is_alpha(html[j])) {  // "a < b" is text
                w.text("<");
                ++i;
                continue;
            }
            char name_buf[16];
            std::size_t name_len = 0;
            while (j < n && (is_alnum(html[j]) || html[j] == '-' || html[j] == ':')) {
                if (name_len < sizeof name_buf) name_buf[name_len] = lower(html[j]);
                ++name_len;
                ++j;
            }
            std::string_view name = name_len <= sizeof name_buf ? std::string_view(name_buf, name_len) : std::string_view();
            // Attributes: quotes only count after '='.
            char last = 0;
            while (j < n && html[j] != '>') {
                char ch = html[j];
                if ((ch == '"' || ch == '\'') && last == '=') {
                    std::size_t close = html.find(ch, j + 1);
                    j = close == std::string_view::npos ? n : close + 1;
                    last = ch;
                    continue;
                }
                if (!is_html_space(ch)) last = ch;
                ++j;
            }
            i = j < n ? j + 1 : n;
            switch (classify(name)) {
                case TagKind::Inline: break;
                case TagKind::Space: w.space(); break;
                case TagKind::Break: w.add_break(); break;
                case TagKind::Block: w.breaks(1); break;
                case TagKind::Paragraph: w.breaks(2); break;
                case TagKind::Raw:  // "<script/>" opens one too, as in browsers
                    if (!end_tag) i = skip_raw_text(html, i, name);
                    break;
            }
        }
    }
    return w.take();
}

}  // namespace pmx::mail
