// The structure walk: one pass over the message with a stack of the open multiparts' boundaries.
// Every line is looked at once (a line is compared with the boundaries only when it starts with
// "--"); a boundary of an outer multipart also ends every inner one, as RFC 2046 intends.
#include "mail/mime.hpp"

#include <algorithm>
#include <cstring>

#include "mail/charset.hpp"
#include "mail/encoding.hpp"
#include "mail/flags.hpp"
#include "mail/headers.hpp"
#include "mail/lines.hpp"

namespace pmx::mail {

namespace {

using namespace detail;

// The recursion follows the nesting; this bounds it whatever the configuration says.
constexpr int kHardMaxDepth = 100;
// How far into a multipart without a boundary parameter a "--boundary" line is looked for.
constexpr std::size_t kGuessWindow = 16 * 1024;

enum class Role : std::uint8_t { None, PlainBody, HtmlBody, HtmlBodyShadowed };

struct State {
    ParsedMessage& msg;
    ParseLimits limits;
    int max_depth;
    FlagSet flags;
    std::vector<Role> roles;         // parallel to msg.parts
    std::size_t body_text_budget;    // Part::text of body parts (text/plain and text/html, not attachments)
    std::size_t attach_text_budget;  // Part::text of text attachments

    State(ParsedMessage& m, const ParseLimits& l)
        : msg(m),
          limits(l),
          max_depth(std::clamp(l.max_depth, 0, kHardMaxDepth)),
          body_text_budget(l.max_text_bytes),
          attach_text_budget(l.max_text_bytes) {}
};

struct Match {
    std::size_t line_start = 0;  // the delimiter line, or buf.size() at the end
    std::size_t line_next = 0;   // the line after it
    int level = -1;              // index in the boundary stack, -1 at the end of the buffer
    bool close = false;
};

// What the headers of an entity say about it.
struct Entity {
    std::vector<Header> headers;
    std::string type;         // lowercased type/subtype
    std::string charset;
    std::string disposition;
    std::string filename;
    std::string encoding;     // Content-Transfer-Encoding, "7bit" when absent
    std::string boundary;
    std::size_t body_start = 0;
};

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }



bool valid_type(std::string_view t) {
    auto slash = t.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == t.size()) return false;
    for (char c : t) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 32 || u >= 127 || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' || c == '<' ||
            c == '>' || c == '@' || c == '[' || c == ']' || c == '\\' || c == '?' || c == '=')
            return false;
    }
    return t.find('/', slash + 1) == std::string_view::npos;
}

// Names and tokens the sender wrote, as UTF-8 like everything else in a ParsedMessage.
std::string clean(std::string s) {
    if (!has_8bit(s)) return s;
    std::string out;
    append_guessed(out, s);
    return out;
}

// CRLF and CR to LF, in place.
void normalize_newlines(std::string& s) {
    char* data = s.data();
    const std::size_t n = s.size();
    const void* cr = std::memchr(data, '\r', n);
    if (!cr) return;
    std::size_t r = static_cast<std::size_t>(static_cast<const char*>(cr) - data), w = r;
    while (r < n) {  // at a CR
        data[w++] = '\n';
        r += (r + 1 < n && data[r + 1] == '\n') ? 2 : 1;
        const void* next = std::memchr(data + r, '\r', n - r);
        std::size_t end = next ? static_cast<std::size_t>(static_cast<const char*>(next) - data) : n;
        std::memmove(data + w, data + r, end - r);
        w += end - r;
        r = end;
    }
    s.resize(w);
}

bool has_visible_text(std::string_view s) {
    for (char c : s)
        if (!(c == ' ' || c == '\t' || c == '\n' || c == '\r')) return true;
    return false;
}

// Appends s on a line of its own, keeping out within max bytes (cut on a character boundary).
void append_capped(std::string& out, std::string_view s, std::size_t max, FlagSet& flags) {
    if (s.empty()) return;
    if (!out.empty() && out.back() != '\n') {
        if (out.size() >= max) return flags.set(Flag::TextTruncated);
        out.push_back('\n');
    }
    std::size_t room = max - std::min(max, out.size());
    if (s.size() <= room) {
        out.append(s);
        return;
    }
    flags.set(Flag::TextTruncated);
    std::size_t cut = room;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    out.append(s.substr(0, cut));
}

class Walker {
public:
    Walker(State& st, std::string_view buf, bool in_raw) : st_(st), buf_(buf), in_raw_(in_raw) {
        // LF line ends (a CR before the LF is dropped), or CR alone when there is no LF at all.
        eol_ = '\n';
        if (!std::memchr(buf.data(), '\n', buf.size()) && std::memchr(buf.data(), '\r', buf.size())) {
            eol_ = '\r';
            st_.flags.set(Flag::CrLineEnds);
        }
    }

    // Parses the entity (headers and body) at pos; returns the boundary line that ended it.
    Match entity(std::size_t pos, int depth, std::string_view default_type, bool top = false) {
        Entity e = read_headers(pos, default_type);
        if (top) {
            st_.msg.headers = e.headers;
            if (const Header* s = find_header(e.headers, "Subject")) st_.msg.subject = s->value;
        }
        if (starts_with(e.type, "multipart/")) return multipart(e, depth);
        if (e.type == "message/rfc822" || e.type == "message/global") return message(e, depth);
        Match m = next_boundary(e.body_start);
        leaf(e, depth, e.body_start, body_end(e.body_start, m), false);
        return m;
    }

private:
    Entity read_headers(std::size_t pos, std::string_view default_type) {
        Entity e;
        HeaderBlock hb = parse_header_block(buf_, pos, eol_, stack_, st_.limits, st_.flags);
        e.headers = std::move(hb.headers);
        e.body_start = hb.body_start;
        FieldValue ct;
        if (const Header* h = find_header(e.headers, "Content-Type")) {
            ct = parse_field(h->raw, st_.flags);
            if (valid_type(ct.value)) {
                e.type = ct.value;
            } else {
                st_.flags.set(Flag::BadContentType);
                e.type = "text/plain";
            }
        } else {
            e.type = default_type;
        }
        if (const std::string* cs = ct.param("charset")) e.charset = clean(normalize_charset(*cs));
        if (e.charset.empty() && starts_with(e.type, "text/")) e.charset = "us-ascii";
        if (const std::string* b = ct.param("boundary")) e.boundary = *b;
        if (const Header* h = find_header(e.headers, "Content-Disposition")) {
            FieldValue cd = parse_field(h->raw, st_.flags);
            e.disposition = clean(std::move(cd.value));
            if (const std::string* f = cd.param("filename")) e.filename = *f;
        }
        if (e.filename.empty())
            if (const std::string* n = ct.param("name")) e.filename = *n;
        if (const Header* h = find_header(e.headers, "Content-Transfer-Encoding"))
            e.encoding = clean(parse_field(h->raw, st_.flags).value);
        if (e.encoding.empty()) e.encoding = "7bit";
        return e;
    }

    // The first line from pos on that is a delimiter of an open multipart.
    Match next_boundary(std::size_t pos) const {
        Match m;
        m.line_start = m.line_next = buf_.size();
        if (stack_.empty()) return m;
        const char* data = buf_.data();
        const std::size_t n = buf_.size();
        while (pos < n) {  // pos is at a line start
            if (n - pos >= 2 && data[pos] == '-' && data[pos + 1] == '-') {
                Line l = line_at(buf_, pos, eol_);
                bool close = false;
                int level = match_boundary(buf_.substr(l.start, l.end - l.start), stack_, close);
                if (level >= 0) return {l.start, l.next, level, close};
            }
            // On to the next line that starts with "--": look for '-' (base64 has none), not line ends.
            std::size_t k = pos + 1;
            for (;;) {
                const void* hit = k < n ? std::memchr(data + k, '-', n - k) : nullptr;
                if (!hit) return m;
                k = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
                if (data[k - 1] == eol_ && k + 1 < n && data[k + 1] == '-') break;
                k += 1;
            }
            pos = k;
        }
        return m;
    }

    // A body ends before the line end that precedes the delimiter (that line end belongs to it).
    std::size_t body_end(std::size_t body_start, const Match& m) const {
        std::size_t end = m.line_start;
        if (m.level < 0 || end <= body_start) return std::max(end, body_start);
        if (buf_[end - 1] == eol_) --end;
        if (eol_ == '\n' && end > body_start && buf_[end - 1] == '\r') --end;
        return end;
    }

    Match multipart(Entity& e, int depth) {
        if (e.encoding == "base64" || e.encoding == "quoted-printable") st_.flags.set(Flag::EncodedMultipart);
        if (depth >= st_.max_depth) {
            st_.flags.set(Flag::MimeDepthExceeded);
            Match m = next_boundary(e.body_start);
            leaf(e, depth, e.body_start, body_end(e.body_start, m), true);
            return m;
        }
        if (e.boundary.empty()) {
            st_.flags.set(Flag::MissingBoundary);
            e.boundary = guess_boundary(e.body_start);
        }
        if (e.boundary.empty()) return as_text(e, depth);
        const int level = static_cast<int>(stack_.size());
        stack_.push_back(e.boundary);
        const std::size_t first_part = st_.msg.parts.size();
        const std::string_view child_type = e.type == "multipart/digest" ? "message/rfc822" : "text/plain";
        Match m = next_boundary(e.body_start);
        bool opened = false;
        for (;;) {
            if (m.level != level || (m.close && !opened)) {
                if (!opened) {  // no delimiter: the body is the text of a broken message
                    st_.flags.set(Flag::BoundaryNotFound);
                    stack_.pop_back();
                    e.type = "text/plain";
                    if (e.charset.empty()) e.charset = "us-ascii";
                    leaf(e, depth, e.body_start, body_end(e.body_start, m), false);
                    return m.level == level ? next_boundary(m.line_next) : m;
                }
                st_.flags.set(Flag::UnterminatedMultipart);
                break;
            }
            if (m.close) {
                stack_.pop_back();
                shadow_html(e, first_part);
                return next_boundary(m.line_next);  // the epilogue is skipped
            }
            opened = true;
            m = entity(m.line_next, depth + 1, child_type);
        }
        stack_.pop_back();
        shadow_html(e, first_part);
        return m;
    }

    // RFC 2046 says a multipart without a boundary is invalid; mail clients read its first
    // "--something" line as the boundary. So do we, to see what they would show.
    std::string guess_boundary(std::size_t pos) const {
        const std::size_t limit = std::min(buf_.size(), pos + kGuessWindow);
        while (pos < limit) {
            Line l = line_at(buf_, pos, eol_);
            std::string_view line = buf_.substr(l.start, l.end - l.start);
            bool close;
            if (!stack_.empty() && match_boundary(line, stack_, close) >= 0) break;  // the part ends here
            while (!line.empty() && is_wsp(line.back())) line.remove_suffix(1);
            if (line.size() >= 3 && line.size() <= 200 && line[0] == '-' && line[1] == '-') {
                std::string_view b = line.substr(2);
                if (b.size() > 2 && b.substr(b.size() - 2) == "--") b.remove_suffix(2);
                return std::string(b);
            }
            pos = l.next;
        }
        return {};
    }

    Match as_text(Entity& e, int depth) {
        e.type = "text/plain";
        if (e.charset.empty()) e.charset = "us-ascii";
        Match m = next_boundary(e.body_start);
        leaf(e, depth, e.body_start, body_end(e.body_start, m), false);
        return m;
    }

    // In a multipart/alternative with a non-empty text/plain, its text/html leaves stay out of
    // ParsedMessage::text (they are still in ParsedMessage::html).
    void shadow_html(const Entity& e, std::size_t first_part) {
        if (e.type != "multipart/alternative") return;
        const auto& parts = st_.msg.parts;
        bool plain = false;
        for (std::size_t i = first_part; i < parts.size() && !plain; ++i)
            plain = st_.roles[i] == Role::PlainBody && has_visible_text(parts[i].text);
        if (!plain) return;
        for (std::size_t i = first_part; i < parts.size(); ++i)
            if (st_.roles[i] == Role::HtmlBody) st_.roles[i] = Role::HtmlBodyShadowed;
    }

    Match message(Entity& e, int depth) {
        if (depth >= st_.max_depth) {
            st_.flags.set(Flag::MimeDepthExceeded);
            Match m = next_boundary(e.body_start);
            leaf(e, depth, e.body_start, body_end(e.body_start, m), false);
            return m;
        }
        if (e.encoding == "base64" || e.encoding == "quoted-printable") {
            // Not allowed (RFC 2046 5.2.1), but a way to hide an attachment: decode, then parse the copy.
            st_.flags.set(Flag::EncodedMessage);
            Match m = next_boundary(e.body_start);
            std::size_t end = body_end(e.body_start, m);
            std::string_view body = buf_.substr(e.body_start, end - e.body_start);
            std::string inner;
            auto ds = e.encoding == "base64" ? base64_decode(body, &inner, SIZE_MAX)
                                             : qp_decode(body, &inner, SIZE_MAX, false);
            if (ds.malformed) st_.flags.set(e.encoding == "base64" ? Flag::BadBase64 : Flag::BadQuotedPrintable);
            if (add_part(e, depth, e.body_start, end, true)) st_.msg.parts.back().decoded_size = ds.size;
            Walker(st_, inner, false).entity(0, depth + 1, "text/plain");
            return m;
        }
        check_encoding(e.encoding);
        std::size_t index = st_.msg.parts.size();
        bool listed = add_part(e, depth, e.body_start, e.body_start, true);
        Match m = entity(e.body_start, depth + 1, "text/plain");
        if (listed) {
            std::size_t end = body_end(e.body_start, m);
            Part& p = st_.msg.parts[index];
            p.decoded_size = end - e.body_start;
            if (in_raw_) p.body_length = end - e.body_start;
        }
        return m;
    }

    void check_encoding(std::string_view enc) {
        if (enc != "7bit" && enc != "8bit" && enc != "binary" && enc != "base64" && enc != "quoted-printable")
            st_.flags.set(Flag::UnknownTransferEncoding);
    }

    // Lists a part (false when over the cap). Its text and decoded size are left to the caller.
    bool add_part(Entity& e, int depth, std::size_t start, std::size_t end, bool attachment) {
        auto& parts = st_.msg.parts;
        if (parts.size() >= st_.limits.max_parts) {
            st_.flags.set(Flag::TooManyParts);
            return false;
        }
        Part& p = parts.emplace_back();
        st_.roles.push_back(Role::None);
        p.content_type = e.type;
        p.charset = e.charset;
        p.disposition = e.disposition;
        p.filename = e.filename;
        p.transfer_encoding = e.encoding;
        p.depth = depth;
        p.is_attachment = attachment || e.disposition == "attachment" || !e.filename.empty() ||
                          !(starts_with(e.type, "text/") || starts_with(e.type, "multipart/"));
        p.headers = std::move(e.headers);
        if (in_raw_) {
            p.body_offset = start;
            p.body_length = end - start;
        } else {
            p.body_in_raw = false;
        }
        return true;
    }

    void leaf(Entity& e, int depth, std::size_t start, std::size_t end, bool opaque) {
        if (!add_part(e, depth, start, end, opaque)) return;
        Part& p = st_.msg.parts.back();
        std::string_view body = buf_.substr(start, end - start);
        const bool b64 = e.encoding == "base64", qp = e.encoding == "quoted-printable";
        if (!opaque) check_encoding(e.encoding);
        if (opaque || !starts_with(p.content_type, "text/")) {  // count, keep nothing
            if (b64 && !opaque) {
                auto ds = base64_decode(body, nullptr, 0);
                p.decoded_size = ds.size;
                if (ds.malformed) st_.flags.set(Flag::BadBase64);
            } else if (qp && !opaque) {
                auto ds = qp_decode(body, nullptr, 0, false);
                p.decoded_size = ds.size;
                if (ds.malformed) st_.flags.set(Flag::BadQuotedPrintable);
            } else {
                p.decoded_size = body.size();
            }
            return;
        }
        const std::size_t keep = st_.limits.max_text_bytes;
        std::string decoded;
        std::string_view bytes;
        if (b64 || qp) {
            auto ds = b64 ? base64_decode(body, &decoded, keep) : qp_decode(body, &decoded, keep, false);
            if (ds.malformed) st_.flags.set(b64 ? Flag::BadBase64 : Flag::BadQuotedPrintable);
            p.decoded_size = ds.size;
            bytes = decoded;
        } else {
            p.decoded_size = body.size();
            bytes = body.substr(0, keep);
        }
        if (p.decoded_size > keep) st_.flags.set(Flag::TextTruncated);
        std::string text;
        auto cs = append_as_utf8(text, bytes, p.charset);
        if (cs.unknown) st_.flags.set(Flag::UnknownCharset);
        if (cs.replaced) st_.flags.set(Flag::BadCharsetData);
        normalize_newlines(text);
        const bool html = p.content_type == "text/html";
        if (html) {
            if (!p.is_attachment) append_capped(st_.msg.html, text, st_.limits.max_text_bytes, st_.flags);
            text = html_to_text(text);
        }
        std::size_t& budget = p.is_attachment ? st_.attach_text_budget : st_.body_text_budget;
        if (text.size() > budget) {
            utf8_truncate(text, budget);
            st_.flags.set(Flag::TextTruncated);
        }
        budget -= text.size();
        p.text = std::move(text);
        if (!p.is_attachment && p.content_type == "text/plain") st_.roles.back() = Role::PlainBody;
        if (!p.is_attachment && html) st_.roles.back() = Role::HtmlBody;
    }

    State& st_;
    std::string_view buf_;
    bool in_raw_;
    char eol_;
    std::vector<std::string_view> stack_;  // boundaries of the open multiparts, outermost first
};

}  // namespace

ParsedMessage parse_message(std::string_view raw, const ParseLimits& limits) {
    ParsedMessage msg;
    try {
        msg.size = raw.size();
        State st(msg, limits);
        try {
            Walker(st, raw, true).entity(0, 0, "text/plain", true);
            for (std::size_t i = 0; i < msg.parts.size(); ++i)
                if (st.roles[i] == Role::PlainBody || st.roles[i] == Role::HtmlBody)
                    append_capped(msg.text, msg.parts[i].text, limits.max_text_bytes, st.flags);
        } catch (...) {
            st.flags.set(Flag::ParseError);
        }
        msg.flags = st.flags.names();
    } catch (...) {
        try {
            msg.flags.assign(1, "parse-error");
        } catch (...) {
        }
    }
    return msg;
}

}  // namespace pmx::mail
