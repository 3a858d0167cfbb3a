// Header blocks and structured field values.
#include "mail/headers.hpp"

#include <algorithm>
#include <charconv>

#include "mail/charset.hpp"
#include "mail/encoding.hpp"
#include "mail/lines.hpp"

namespace pmx::mail::detail {

namespace {

// "Name:" (whitespace before the colon tolerated). Sets the name's length and the colon's position.
bool field_start(std::string_view line, std::size_t& name_len, std::size_t& colon) {
    std::size_t i = 0;
    while (i < line.size()) {
        auto c = static_cast<unsigned char>(line[i]);
        if (c <= 32 || c >= 127 || c == ':') break;
        ++i;
    }
    if (i == 0) return false;
    std::size_t j = i;
    while (j < line.size() && is_wsp(line[j])) ++j;
    if (j == line.size() || line[j] != ':') return false;
    name_len = i;
    colon = j;
    return true;
}

bool looks_like_header(std::string_view line) {
    std::size_t a, b;
    return !line.empty() && (is_wsp(line[0]) || field_start(line, a, b));
}

void trim_trailing(std::string& s) {
    while (!s.empty() && (is_wsp(s.back()) || s.back() == '\r')) s.pop_back();
}

}  // namespace

HeaderBlock parse_header_block(std::string_view buf, std::size_t pos, char eol,
                               std::span<const std::string_view> boundaries, const ParseLimits& limits,
                               FlagSet& flags) {
    HeaderBlock block;
    const std::size_t start = pos;
    bool keeping = true;      // false once a cap was hit: parse on to find the body, keep nothing
    bool in_header = false;   // the last line started a header we keep (continuations append to it)
    block.body_start = buf.size();
    while (pos < buf.size()) {
        Line l = line_at(buf, pos, eol);
        std::string_view line = buf.substr(l.start, l.end - l.start);
        if (line.empty()) {
            block.body_start = l.next;
            break;
        }
        bool close;
        if (!boundaries.empty() && match_boundary(line, boundaries, close) >= 0) {
            block.body_start = l.start;
            break;
        }
        if (keeping && l.next - start > limits.max_header_bytes) {
            flags.set(Flag::HeaderTooLong);
            keeping = in_header = false;
        }
        std::size_t name_len = 0, colon = 0;
        if (is_wsp(line[0]) && in_header) {
            block.headers.back().raw.append(line);  // unfolding: the line end goes, the whitespace stays
        } else if (!is_wsp(line[0]) && field_start(line, name_len, colon)) {
            in_header = false;
            if (keeping && block.headers.size() >= limits.max_headers) {
                flags.set(Flag::TooManyHeaders);
                keeping = false;
            }
            if (keeping) {
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && is_wsp(value.front())) value.remove_prefix(1);
                block.headers.push_back({std::string(line.substr(0, name_len)), std::string(value), {}});
                in_header = true;
            }
        } else if (is_wsp(line[0]) && !keeping) {
            // continuation of a header we do not keep
        } else {
            in_header = false;
            Line next = line_at(buf, l.next, eol);
            std::string_view next_line = buf.substr(next.start, next.end - next.start);
            if (l.next < buf.size() && looks_like_header(next_line)) {
                flags.set(Flag::HeaderWithoutColon);  // one stray line among headers: skip it
            } else {
                flags.set(Flag::MissingBlankLine);  // the body starts here
                block.body_start = l.start;
                break;
            }
        }
        pos = l.next;
    }
    for (Header& h : block.headers) {
        trim_trailing(h.raw);
        if (has_8bit(h.raw) || has_8bit(h.name)) flags.set(Flag::EightBitHeader);
        decode_rfc2047_into(h.value, h.raw, flags);
    }
    return block;
}

const std::string* FieldValue::param(std::string_view name) const {
    for (const auto& [n, v] : params)
        if (n == name) return &v;
    return nullptr;
}

namespace {

struct Cursor {
    std::string_view s;
    std::size_t i = 0;

    bool done() const { return i >= s.size(); }
    char peek() const { return s[i]; }
    void skip_comment() {  // at '(': nested, with quoted pairs; an unterminated one runs to the end
        int level = 0;
        while (i < s.size()) {
            char c = s[i++];
            if (c == '\\') ++i;
            else if (c == '(') ++level;
            else if (c == ')' && --level == 0) return;
        }
    }
    void skip_cfws() {
        while (i < s.size()) {
            char c = s[i];
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') ++i;
            else if (c == '(') skip_comment();
            else break;
        }
    }
};

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

struct RawParam {
    std::string base;     // name without RFC 2231 "*N" / "*"
    int section = -1;     // RFC 2231 section, -1 when none
    bool extended = false;  // RFC 2231 "*": charset'lang'%XX encoding
    std::string value;
    std::size_t order = 0;
};

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::string decode_plain(std::string_view v, FlagSet& flags) {
    std::string out;
    if (v.find("=?") != std::string_view::npos) decode_rfc2047_into(out, v, flags);
    else if (has_8bit(v)) append_guessed(out, v);
    else out.assign(v);
    return out;
}

constexpr std::size_t kMaxParams = 1000;
constexpr int kMaxSection = 9999;

}  // namespace

FieldValue parse_field(std::string_view raw, FlagSet& flags) {
    FieldValue fv;
    Cursor c{raw};
    c.skip_cfws();
    while (!c.done() && c.peek() != ';') {
        char ch = c.peek();
        if (ch == '(') { c.skip_comment(); continue; }
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n' && ch != '"') fv.value.push_back(lower(ch));
        ++c.i;
    }
    std::vector<RawParam> raw_params;
    while (!c.done()) {
        ++c.i;  // ';'
        c.skip_cfws();
        if (c.done()) break;
        if (c.peek() == ';') continue;
        std::string name;
        while (!c.done() && c.peek() != '=' && c.peek() != ';') {
            char ch = c.peek();
            if (ch == '(') { c.skip_comment(); continue; }
            if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') name.push_back(lower(ch));
            ++c.i;
        }
        if (c.done() || c.peek() == ';' || name.empty()) {
            flags.set(Flag::BadParameter);
            while (!c.done() && c.peek() != ';') ++c.i;
            continue;
        }
        ++c.i;  // '='
        c.skip_cfws();
        std::string value;
        if (!c.done() && c.peek() == '"') {
            ++c.i;
            bool closed = false;
            while (!c.done()) {
                char ch = raw[c.i++];
                if (ch == '"') { closed = true; break; }
                if (ch == '\\' && !c.done()) ch = raw[c.i++];
                value.push_back(ch);
            }
            if (!closed) flags.set(Flag::BadParameter);
            while (!c.done() && c.peek() != ';') ++c.i;  // junk after the closing quote
        } else {
            std::size_t b = c.i;
            while (!c.done() && c.peek() != ';') ++c.i;
            std::string_view v = raw.substr(b, c.i - b);
            while (!v.empty() && (is_wsp(v.back()) || v.back() == '\r' || v.back() == '\n')) v.remove_suffix(1);
            value.assign(v);
        }
        if (raw_params.size() >= kMaxParams) {
            flags.set(Flag::BadParameter);
            continue;
        }
        RawParam p;
        p.order = raw_params.size();
        std::string_view n = name;
        if (n.size() > 1 && n.back() == '*') {
            p.extended = true;
            n.remove_suffix(1);
        }
        if (auto star = n.find('*'); star != std::string_view::npos && star > 0) {
            std::string_view digits = n.substr(star + 1);
            int sec = -1;
            auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), sec);
            if (ec == std::errc{} && ptr == digits.data() + digits.size() && !digits.empty() && sec >= 0 &&
                sec <= kMaxSection && (digits.size() == 1 || digits[0] != '0')) {
                p.section = sec;
                n = n.substr(0, star);
            } else {
                flags.set(Flag::BadParameter);
            }
        }
        p.base.assign(n);
        p.value = std::move(value);
        raw_params.push_back(std::move(p));
    }

    // Group by name; in a group, RFC 2231 forms (sorted by section) come after plain ones.
    std::stable_sort(raw_params.begin(), raw_params.end(), [](const RawParam& a, const RawParam& b) {
        if (a.base != b.base) return a.base < b.base;
        bool a2231 = a.extended || a.section >= 0, b2231 = b.extended || b.section >= 0;
        if (a2231 != b2231) return !a2231;
        return a.section < b.section;
    });
    struct Out { std::size_t order; std::string name, value; };
    std::vector<Out> out;
    for (std::size_t g = 0; g < raw_params.size();) {
        std::size_t e = g;
        while (e < raw_params.size() && raw_params[e].base == raw_params[g].base) ++e;
        std::size_t first2231 = g;
        while (first2231 < e && !raw_params[first2231].extended && raw_params[first2231].section < 0) ++first2231;
        const std::string& base = raw_params[g].base;
        std::string value;
        if (first2231 == e) {  // plain only: the first one wins
            value = base == "boundary" ? raw_params[g].value : decode_plain(raw_params[g].value, flags);
        } else {
            std::string bytes, charset;
            bool charset_seen = false;
            int expect = 0;
            for (std::size_t k = first2231; k < e; ++k) {
                const RawParam& p = raw_params[k];
                int sec = p.section < 0 ? 0 : p.section;
                if (k > first2231 && sec == raw_params[k - 1].section) {  // a section twice: keep the first
                    flags.set(Flag::BadParameter);
                    continue;
                }
                if (sec != expect) flags.set(Flag::BadParameter);  // a gap
                expect = sec + 1;
                std::string_view v = p.value;
                if (p.extended && !charset_seen && sec == 0) {
                    auto q1 = v.find('\'');
                    auto q2 = q1 == std::string_view::npos ? q1 : v.find('\'', q1 + 1);
                    if (q2 != std::string_view::npos) {
                        charset.assign(v.substr(0, q1));
                        v = v.substr(q2 + 1);
                    } else {
                        flags.set(Flag::BadParameter);
                    }
                    charset_seen = true;
                }
                if (p.extended) bytes += percent_decode(v);
                else bytes += v;
            }
            if (base == "boundary") {
                value = std::move(bytes);
            } else if (charset.empty()) {
                append_guessed(value, bytes);
            } else {
                auto st = append_as_utf8(value, bytes, charset);
                if (st.unknown) flags.set(Flag::UnknownCharset);
                if (st.replaced) flags.set(Flag::BadCharsetData);
            }
        }
        std::size_t order = raw_params[g].order;
        for (std::size_t k = g; k < e; ++k) order = std::min(order, raw_params[k].order);
        out.push_back({order, base, std::move(value)});
        g = e;
    }
    std::sort(out.begin(), out.end(), [](const Out& a, const Out& b) { return a.order < b.order; });
    fv.params.reserve(out.size());
    for (auto& o : out) fv.params.emplace_back(std::move(o.name), std::move(o.value));
    return fv;
}

}  // namespace pmx::mail::detail
