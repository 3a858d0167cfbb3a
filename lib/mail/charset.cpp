// Charsets to UTF-8: UTF-8, US-ASCII and ISO-8859-1/Windows-1252 by hand, everything else
// through glibc iconv with one converter per charset cached per thread.
#include "mail/charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include "mail/mime.hpp"

namespace pmx::mail::detail {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// 0x80..0x9F; the five holes map to the C1 controls, as browsers do.
constexpr char16_t kCp1252High[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

enum class Kind { Ascii, Utf8, Cp1252, Iconv, Unknown };

struct Resolved {
    Kind kind;
    const char* iconv_name = nullptr;  // set for Kind::Iconv when the name is an alias of ours
};

Resolved resolve(std::string_view cs) {
    struct Alias { std::string_view name; Kind kind; const char* iconv_name; };
    // WHATWG-style supersets for the labels mail gets wrong most often.
    static constexpr Alias aliases[] = {
        {"", Kind::Ascii, nullptr}, {"us-ascii", Kind::Ascii, nullptr}, {"ascii", Kind::Ascii, nullptr},
        {"ansi_x3.4-1968", Kind::Ascii, nullptr}, {"iso646-us", Kind::Ascii, nullptr},
        {"us", Kind::Ascii, nullptr}, {"unknown-8bit", Kind::Ascii, nullptr}, {"x-unknown", Kind::Ascii, nullptr},
        {"default", Kind::Ascii, nullptr}, {"utf-8", Kind::Utf8, nullptr}, {"utf8", Kind::Utf8, nullptr},
        {"x-utf-8", Kind::Utf8, nullptr}, {"iso-8859-1", Kind::Cp1252, nullptr},
        {"iso8859-1", Kind::Cp1252, nullptr}, {"iso_8859-1", Kind::Cp1252, nullptr},
        {"latin1", Kind::Cp1252, nullptr}, {"latin-1", Kind::Cp1252, nullptr}, {"l1", Kind::Cp1252, nullptr},
        {"cp819", Kind::Cp1252, nullptr}, {"ibm819", Kind::Cp1252, nullptr},
        {"windows-1252", Kind::Cp1252, nullptr}, {"cp1252", Kind::Cp1252, nullptr},
        {"x-cp1252", Kind::Cp1252, nullptr}, {"gb2312", Kind::Iconv, "GB18030"},
        {"gbk", Kind::Iconv, "GB18030"}, {"x-gbk", Kind::Iconv, "GB18030"}, {"cp936", Kind::Iconv, "GB18030"},
        {"euc-cn", Kind::Iconv, "GB18030"}, {"ks_c_5601-1987", Kind::Iconv, "CP949"},
        {"ks_c_5601", Kind::Iconv, "CP949"}, {"euc-kr", Kind::Iconv, "CP949"}, {"big5", Kind::Iconv, "BIG5-HKSCS"},
        {"shift_jis", Kind::Iconv, "CP932"}, {"shift-jis", Kind::Iconv, "CP932"}, {"x-sjis", Kind::Iconv, "CP932"},
        {"sjis", Kind::Iconv, "CP932"}, {"ms_kanji", Kind::Iconv, "CP932"}, {"windows-31j", Kind::Iconv, "CP932"},
        {"iso-8859-8-i", Kind::Iconv, "ISO-8859-8"}, {"windows-874", Kind::Iconv, "CP874"},
        {"x-mac-roman", Kind::Iconv, "MACINTOSH"}, {"mac", Kind::Iconv, "MACINTOSH"},
    };
    for (const auto& a : aliases)
        if (a.name == cs) return {a.kind, a.iconv_name};
    if (cs.size() > 40) return {Kind::Unknown};
    // iconv_open() takes suffixes ("//TRANSLIT") and loads modules by name: only plain names go there.
    for (char c : cs) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                  c == ':' || c == '+' || c == '(' || c == ')';
        if (!ok) return {Kind::Unknown};
    }
    return {Kind::Iconv};
}

// One converter per charset, per thread, reset before each use. Opening one costs more than a
// short conversion (see the bench), and a message tends to repeat its charset in every part.
class IconvCache {
public:
    ~IconvCache() {
        for (auto& e : entries_)
            if (e.cd != invalid()) iconv_close(e.cd);
    }
    // (iconv_t)-1 when iconv does not know the charset.
    iconv_t get(const std::string& name) {
        for (std::size_t i = 0; i < count_; ++i) {
            if (entries_[i].name != name) continue;
            for (std::size_t j = i; j > 0; --j) std::swap(entries_[j], entries_[j - 1]);  // most recent first
            if (entries_[0].cd != invalid()) iconv(entries_[0].cd, nullptr, nullptr, nullptr, nullptr);
            return entries_[0].cd;
        }
        iconv_t cd = iconv_open("UTF-8", name.c_str());
        if (count_ == kSize) {
            if (entries_[kSize - 1].cd != invalid()) iconv_close(entries_[kSize - 1].cd);
            --count_;
        }
        for (std::size_t j = count_; j > 0; --j) entries_[j] = std::move(entries_[j - 1]);
        entries_[0] = {name, cd};
        ++count_;
        return cd;
    }

private:
    static iconv_t invalid() { return reinterpret_cast<iconv_t>(-1); }
    struct Entry {
        std::string name;
        iconv_t cd = reinterpret_cast<iconv_t>(-1);
    };
    static constexpr std::size_t kSize = 8;
    Entry entries_[kSize];
    std::size_t count_ = 0;
};

bool append_iconv(std::string& out, std::string_view bytes, iconv_t cd) {
    bool replaced = false;
    char buf[16384];
    char* in = const_cast<char*>(bytes.data());
    std::size_t in_left = bytes.size();
    while (in_left > 0) {
        char* o = buf;
        std::size_t o_left = sizeof buf;
        std::size_t r = iconv(cd, &in, &in_left, &o, &o_left);
        int err = errno;
        out.append(buf, static_cast<std::size_t>(o - buf));
        if (r != static_cast<std::size_t>(-1)) continue;
        if (err == E2BIG) continue;
        out.append(kReplacement);
        replaced = true;
        if (err == EILSEQ) {
            ++in;
            --in_left;
            continue;
        }
        break;  // EINVAL: incomplete sequence at the end
    }
    char* o = buf;
    std::size_t o_left = sizeof buf;
    iconv(cd, nullptr, nullptr, &o, &o_left);  // back to the initial shift state
    out.append(buf, static_cast<std::size_t>(o - buf));
    return !replaced;
}

}  // namespace

void append_utf8(std::string& out, char32_t cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x110000) {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.append(kReplacement);
    }
}

char32_t cp1252_to_unicode(unsigned char b) {
    return b >= 0x80 && b < 0xA0 ? kCp1252High[b - 0x80] : b;
}

namespace {
// Length of the valid UTF-8 sequence at s[i] (s[i] >= 0x80), or 0 with *skip set to the
// length of its maximal invalid subpart (always >= 1), which becomes one U+FFFD.
std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t* skip) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) { len = 3; lo = 0xA0; }
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) len = 3;
    else if (c == 0xED) { len = 3; hi = 0x9F; }
    else if (c == 0xF0) { len = 4; lo = 0x90; }
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) { len = 4; hi = 0x8F; }
    else { *skip = 1; return 0; }
    std::size_t j = i + 1;
    for (std::size_t k = 1; k < len; ++k, ++j) {
        if (j >= s.size()) { *skip = j - i; return 0; }
        auto d = static_cast<unsigned char>(s[j]);
        if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xBF)) { *skip = j - i; return 0; }
    }
    return len;
}
}  // namespace

// Index of the first byte >= 0x80 at or after i, or s.size().
std::size_t skip_ascii(std::string_view s, std::size_t i) {
    constexpr std::uint64_t high = 0x8080808080808080ull;
    while (i + 8 <= s.size()) {
        std::uint64_t v;
        std::memcpy(&v, s.data() + i, 8);
        if (v & high) break;
        i += 8;
    }
    while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
    return i;
}

bool has_8bit(std::string_view s) { return skip_ascii(s, 0) != s.size(); }

bool is_valid_utf8(std::string_view s) {
    std::size_t i = 0, skip = 0;
    while (i < s.size()) {
        i = skip_ascii(s, i);
        if (i == s.size()) break;
        std::size_t len = utf8_sequence(s, i, &skip);
        if (len == 0) return false;
        i += len;
    }
    return true;
}

bool append_utf8_sanitized(std::string& out, std::string_view s) {
    bool clean = true;
    std::size_t i = 0, run = 0, skip = 0;
    while (i < s.size()) {
        i = skip_ascii(s, i);
        if (i == s.size()) break;
        std::size_t len = utf8_sequence(s, i, &skip);
        if (len > 0) { i += len; continue; }
        out.append(s.substr(run, i - run));
        out.append(kReplacement);
        clean = false;
        i += skip;
        run = i;
    }
    out.append(s.substr(run));
    return clean;
}

void append_cp1252(std::string& out, std::string_view s) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) continue;
        out.append(s.substr(run, i - run));
        append_utf8(out, cp1252_to_unicode(c));
        run = i + 1;
    }
    out.append(s.substr(run));
}

void append_guessed(std::string& out, std::string_view s) {
    if (is_valid_utf8(s)) out.append(s);
    else append_cp1252(out, s);
}

void utf8_truncate(std::string& s, std::size_t max) {
    if (s.size() <= max) return;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
}

std::string normalize_charset(std::string_view cs) {
    while (!cs.empty() && (cs.front() == ' ' || cs.front() == '\t' || cs.front() == '"' || cs.front() == '\''))
        cs.remove_prefix(1);
    while (!cs.empty() && (cs.back() == ' ' || cs.back() == '\t' || cs.back() == '"' || cs.back() == '\''))
        cs.remove_suffix(1);
    std::string out(cs);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

CharsetStatus append_as_utf8(std::string& out, std::string_view bytes, std::string_view charset) {
    CharsetStatus st;
    std::string cs = normalize_charset(charset);
    Resolved r = resolve(cs);
    if (r.kind == Kind::Iconv) {
        thread_local IconvCache cache;
        iconv_t cd = cache.get(r.iconv_name ? std::string(r.iconv_name) : cs);
        if (cd != reinterpret_cast<iconv_t>(-1)) {
            st.replaced = !append_iconv(out, bytes, cd);
            return st;
        }
        r.kind = Kind::Unknown;
    }
    switch (r.kind) {
        case Kind::Utf8: st.replaced = !append_utf8_sanitized(out, bytes); break;
        case Kind::Cp1252: append_cp1252(out, bytes); break;
        case Kind::Unknown: st.unknown = true; [[fallthrough]];
        default: append_guessed(out, bytes); break;
    }
    return st;
}

}  // namespace pmx::mail::detail

namespace pmx::mail {

std::string to_utf8(std::string_view bytes, std::string_view charset, bool* unknown) {
    std::string out;
    out.reserve(bytes.size());
    auto st = detail::append_as_utf8(out, bytes, charset);
    if (unknown) *unknown = st.unknown;
    return out;
}

}  // namespace pmx::mail
