// Message views for rules, after SpamAssassin 4.0's Message.pm and PerMsgStatus::_get.
#include "spam/rules/views.hpp"

#include <algorithm>
#include <cctype>

#include "mail/mime.hpp"
#include "spam/uris.hpp"

namespace pmx::spam::rules::detail {

namespace {

constexpr std::size_t kMaxLine = 2048;              // MAX_BODY_LINE_LENGTH
constexpr std::size_t kBodyPartScan = 50000;        // body_part_scan_size
constexpr std::size_t kRawbodyPartScan = 500000;    // rawbody_part_scan_size

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Cut a part's text at the scan size: at a newline (or, second, `alt`) within 1 KiB after it.
void truncate_scan(std::string& s, std::size_t scan, char alt) {
    if (s.size() <= scan) return;
    std::size_t idx = s.find('\n', scan);
    if (idx != std::string::npos && idx - scan <= 1024) { s.resize(idx + 1); return; }
    idx = s.find(alt, scan);
    if (idx != std::string::npos && idx - scan <= 1024) { s.resize(idx + 1); return; }
    if (alt != ' ') {
        idx = s.find(' ', scan);
        if (idx != std::string::npos && idx - scan <= 1024) { s.resize(idx + 1); return; }
    }
    s.resize(scan);
}

// split_into_array_of_short_lines
void add_short_lines(ScanText& out, std::string_view text) {
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        std::string_view line = text.substr(pos, end - pos);
        while (line.size() > kMaxLine) {
            std::size_t sp = line.rfind(' ', kMaxLine);
            std::size_t len = sp == std::string_view::npos ? kMaxLine : sp + 1;
            out.add(line.substr(0, len));
            line.remove_prefix(len);
        }
        out.add(line);
        pos = end;
    }
}

// split_into_array_of_short_paragraphs
void add_short_paragraphs(ScanText& out, std::string_view t) {
    if (t.size() <= kMaxLine) { out.add(t); return; }
    std::size_t ofs = 0, j = 0;
    for (; t.size() - ofs > 2 * kMaxLine; ofs = j + 1) {
        auto too_far = [&](std::size_t x) { return x == std::string_view::npos || x - ofs + 1 > 2 * kMaxLine; };
        j = t.find('\n', ofs + kMaxLine);
        if (too_far(j)) {
            j = t.find('>', ofs + kMaxLine);
            if (too_far(j)) {
                j = t.find(' ', ofs + kMaxLine);
                if (too_far(j)) j = ofs + kMaxLine;
            }
        }
        out.add(t.substr(ofs, j - ofs + 1));
    }
    if (ofs < t.size()) out.add(t.substr(ofs));
}

std::string to_lf(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
        out += s[i];
    }
    return out;
}

std::string decoded_part_body(const mail::Part& p, std::string_view raw) {
    if (!p.body_in_raw || p.body_offset > raw.size()) return p.text;
    std::string_view body = raw.substr(p.body_offset, std::min(p.body_length, raw.size() - p.body_offset));
    if (body.size() > 4 * kRawbodyPartScan) body = body.substr(0, 4 * kRawbodyPartScan);
    std::string out;
    if (p.transfer_encoding == "base64") out = mail::decode_base64(body);
    else if (p.transfer_encoding == "quoted-printable") out = mail::decode_quoted_printable(body);
    else out = std::string(body);
    return to_lf(out);
}

// Text after </html> (tracking ids, random words) is a text node to SpamAssassin's HTML
// renderer, which keeps the whitespace it starts with as one space: its paragraph starts with
// " ", and rules anchored at ^ (TRACKER_ID) do not match it. mail's renderer starts a clean
// line; this puts the space back. (SpamAssassin keeps such leading spaces for every text node
// of HTML; this covers the case that changed rule hits on the corpus, see bench/README.md.)
void space_text_after_html_end(std::string& text, const mail::Part& p, std::string_view raw) {
    if (!p.body_in_raw) return;
    const std::string html = decoded_part_body(p, raw);
    std::size_t end = std::string::npos;
    for (std::size_t i = html.size(); i-- > 0;) {
        if (html[i] == '<' && i + 7 <= html.size() && iequal(std::string_view(html).substr(i, 7), "</html>")) {
            end = i + 7;
            break;
        }
    }
    if (end == std::string::npos || end >= html.size() || !is_space(html[end])) return;
    std::size_t start = end;
    while (start < html.size() && is_space(html[start])) ++start;
    if (start == html.size() || html[start] == '<') return;
    std::size_t stop = start;
    while (stop < html.size() && !is_space(html[stop]) && html[stop] != '<' && stop - start < 64) ++stop;
    const std::string_view first_word = std::string_view(html).substr(start, stop - start);
    const std::size_t at = text.rfind(first_word);
    if (at != std::string::npos && at > 0 && text[at - 1] == '\n') text.insert(at, 1, ' ');
}

std::string trim_copy(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return std::string(s);
}

std::string reverse_ip(std::string_view ip) {
    std::vector<std::string_view> parts;
    std::size_t pos = 0;
    while (pos <= ip.size()) {
        std::size_t d = ip.find('.', pos);
        parts.push_back(ip.substr(pos, d == std::string_view::npos ? std::string_view::npos : d - pos));
        if (d == std::string_view::npos) break;
        pos = d + 1;
    }
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (!out.empty()) out += '.';
        out += *it;
    }
    return out;
}

}  // namespace

std::optional<std::string> parse_header_target(std::string_view spec, HeaderTarget& t) {
    std::size_t colon = spec.find(':');
    t.name = std::string(spec.substr(0, colon));
    while (colon != std::string_view::npos) {
        std::size_t next = spec.find(':', colon + 1);
        std::string_view mod = spec.substr(colon + 1, next == std::string_view::npos ? std::string_view::npos : next - colon - 1);
        if (mod == "raw") t.raw = true;
        else if (mod == "addr") t.addr = true;
        else if (mod == "name") t.display_name = true;
        else if (mod == "first") t.first = true;
        else if (mod == "last") t.last = true;
        else if (mod == "host") t.host = true;
        else if (mod == "domain") t.domain = t.host = true;
        else if (mod == "ip") t.ip = true;
        else if (mod == "revip") t.ip = t.revip = true;
        else return "unknown header modifier :" + std::string(mod);
        colon = next;
    }
    if (t.name.empty()) return std::string("empty header name");
    if (iequal(t.name, "X-Spam-Relays-External") || iequal(t.name, "X-Spam-Relays-Untrusted") ||
        iequal(t.name, "X-Spam-Relays-Trusted") || iequal(t.name, "X-Spam-Relays-Internal"))
        return "header " + t.name + " is SpamAssassin's Received-header relay analysis (not computed by pmx)";
    if (t.name == "ALL-TRUSTED" || t.name == "ALL-INTERNAL")
        return "header " + t.name + " needs SpamAssassin's trust path (not computed by pmx)";
    if (t.host || t.domain)
        return std::string("header modifiers :host and :domain need the public-suffix list (not implemented)");
    return std::nullopt;
}

std::vector<Address> parse_addresses(std::string_view v) {
    std::vector<Address> out;
    // Split at commas outside quotes, comments and angle brackets.
    std::vector<std::string_view> items;
    int paren = 0;
    bool quote = false, angle = false;
    std::size_t start = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (quote) {
            if (c == '\\') ++i;
            else if (c == '"') quote = false;
        } else if (c == '"') quote = true;
        else if (c == '(') ++paren;
        else if (c == ')' && paren > 0) --paren;
        else if (c == '<' && paren == 0) angle = true;
        else if (c == '>' && paren == 0) angle = false;
        else if (c == ',' && paren == 0 && !angle) {
            items.push_back(v.substr(start, i - start));
            start = i + 1;
        }
        if (items.size() > 1000) break;
    }
    items.push_back(v.substr(start));
    for (std::string_view item : items) {
        // Phrase and comments outside <...>; the address inside, or the bare addr-spec.
        std::string phrase, bare, comment;
        std::string addr;
        bool have_angle = false;
        quote = false;
        paren = 0;
        for (std::size_t i = 0; i < item.size(); ++i) {
            char c = item[i];
            if (paren > 0) {
                if (c == '(') ++paren;
                else if (c == ')') { if (--paren == 0) continue; }
                if (paren > 0) comment += c;
                continue;
            }
            if (quote) {
                if (c == '\\' && i + 1 < item.size()) { phrase += item[++i]; continue; }
                if (c == '"') { quote = false; continue; }
                phrase += c;
                continue;
            }
            if (c == '"') { quote = true; continue; }
            if (c == '(') { paren = 1; continue; }
            if (c == '<' && !have_angle) {
                std::size_t close = item.find('>', i);
                std::string_view inner = item.substr(i + 1, close == std::string_view::npos ? std::string_view::npos : close - i - 1);
                addr = trim_copy(inner);
                have_angle = true;
                i = close == std::string_view::npos ? item.size() : close;
                continue;
            }
            if (!have_angle) { phrase += c; bare += c; }
        }
        Address a;
        if (have_angle) {
            a.address = addr;
            std::string p = trim_copy(phrase);
            if (!p.empty()) a.phrase = p;
            else if (!trim_copy(comment).empty()) a.phrase = trim_copy(comment);
        } else {
            std::string b = trim_copy(bare);
            // a bare addr-spec: no spaces inside
            if (b.find(' ') == std::string::npos && b.find('@') != std::string::npos) a.address = b;
            if (!trim_copy(comment).empty()) a.phrase = trim_copy(comment);
        }
        if (!a.address.empty() && a.address.find('@') == std::string::npos) a.address.clear();
        if (a.address.empty() && !a.phrase) continue;
        out.push_back(std::move(a));
    }
    return out;
}

const std::string& View::rendered_text() {
    if (!rendered_) {
        std::string t;
        for (const auto& p : in_.message.parts) {
            if (!t.empty()) t += '\n';
            if (p.content_type.compare(0, 5, "text/") == 0) {
                std::string part = p.text;
                if (p.content_type == "text/html") space_text_after_html_end(part, p, in_.raw);
                truncate_scan(part, kBodyPartScan, ' ');
                t += part;
            }
        }
        rendered_ = std::move(t);
    }
    return *rendered_;
}

const ScanText& View::body() {
    if (body_) return *body_;
    const std::string& t = rendered_text();
    // Message.pm: s/\n+\s*\n+/\x00/gs (paragraph mark); s/\s+/ /gs; tr/\x00/\n/. In a whitespace
    // run with two or more newlines, the mark covers the first to the last newline only: what
    // comes before or after them in the run stays a space on either side of the mark (HTML
    // text after </html> starts its paragraph with " ", so an anchored rule like TRACKER_ID's
    // /^[a-z0-9]{6,24}.../ does not match it in SpamAssassin).
    std::string out;
    out.reserve(t.size());
    std::size_t i = 0;
    while (i < t.size()) {
        char c = t[i];
        if (!is_space(c)) { out += c; ++i; continue; }
        std::size_t j = i, first_nl = std::string::npos, last_nl = std::string::npos;
        int newlines = 0;
        while (j < t.size() && is_space(t[j])) {
            if (t[j] == '\n') {
                ++newlines;
                if (first_nl == std::string::npos) first_nl = j;
                last_nl = j;
            }
            ++j;
        }
        if (newlines >= 2) {
            if (first_nl > i) out += ' ';
            out += '\n';
            if (last_nl + 1 < j) out += ' ';
        } else {
            out += ' ';
        }
        i = j;
    }
    std::string subject;
    auto subs = in_.message.headers_named("Subject");
    if (!subs.empty()) subject = trim_copy(subs.back()->value) + "\n";
    if (subject.size() <= 1) subject = "\n";
    body_.emplace();
    add_short_lines(*body_, subject + out);
    return *body_;
}

const ScanText& View::rawbody() {
    if (rawbody_) return *rawbody_;
    rawbody_.emplace();
    for (const auto& p : in_.message.parts) {
        bool text = p.content_type.compare(0, 5, "text/") == 0 || p.content_type.compare(0, 8, "message/") == 0;
        if (!text || p.content_type == "text/calendar") continue;
        std::string body = decoded_part_body(p, in_.raw);
        truncate_scan(body, kRawbodyPartScan, '>');
        add_short_paragraphs(*rawbody_, body);
    }
    return *rawbody_;
}

const ScanText& View::full() {
    if (full_) return *full_;
    full_.emplace();
    full_lf_ = to_lf(in_.raw);
    full_->add(full_lf_);
    return *full_;
}

const std::vector<std::string>& View::uri_list() {
    if (!uri_list_) uri_list_ = in_.uris ? *in_.uris : extract_uris(in_.message);
    return *uri_list_;
}

const ScanText& View::uris() {
    if (uris_) return *uris_;
    uris_.emplace();
    for (const auto& u : uri_list()) uris_->add(u);
    return *uris_;
}

std::string_view View::pristine_header() {
    if (!pristine_header_) {
        std::string lf = to_lf(in_.raw.substr(0, std::min<std::size_t>(in_.raw.size(), 4u << 20)));
        std::size_t end = lf.compare(0, 1, "\n") == 0 ? 0 : lf.find("\n\n");
        pristine_header_ = end == std::string::npos ? lf : lf.substr(0, end + 1);
    }
    return *pristine_header_;
}

std::vector<std::string> View::get(const HeaderTarget& t) {
    std::vector<std::string> r;
    const auto& msg = in_.message;
    bool want_raw = t.raw || t.addr || t.display_name;
    auto value_of = [&](const mail::Header& h) {
        return want_raw ? " " + h.raw + "\n" : trim_copy(h.value) + "\n";
    };
    auto add_named = [&](std::string_view name) {
        for (const auto* h : msg.headers_named(name)) r.push_back(value_of(*h));
    };
    if (t.name == "ALL" || t.name == "ALL-UNTRUSTED" || t.name == "ALL-EXTERNAL") {
        // Without a trust path every relay is untrusted/external: the three are the same here.
        if (t.raw) {
            std::string_view ph = pristine_header();
            std::size_t pos = 0;
            while (pos < ph.size()) {
                std::size_t end = pos;
                for (;;) {
                    std::size_t nl = ph.find('\n', end);
                    if (nl == std::string_view::npos) { end = ph.size(); break; }
                    end = nl + 1;
                    if (end >= ph.size() || (ph[end] != ' ' && ph[end] != '\t')) break;
                }
                r.emplace_back(ph.substr(pos, end - pos));
                pos = end;
            }
        } else {
            for (const auto& h : msg.headers) r.push_back(h.name + ": " + trim_copy(h.value) + "\n");
        }
        return r;
    }
    if (iequal(t.name, "EnvelopeFrom")) {
        std::string ef = in_.envelope_from;
        if (ef.empty()) {
            for (std::string_view n : {"X-Envelope-From", "Envelope-Sender", "Return-Path"}) {
                if (const auto* h = msg.header(n)) {
                    ef = trim_copy(h->value);
                    break;
                }
            }
            if (ef.size() >= 2 && ef.front() == '<' && ef.back() == '>') ef = ef.substr(1, ef.size() - 2);
        }
        if (!ef.empty()) r.push_back(ef + "\n");
    } else if (iequal(t.name, "ToCc")) {
        add_named("To");
        add_named("Cc");
    } else if (t.name == "MESSAGEID") {
        for (std::string_view n : {"X-Message-Id", "Resent-Message-Id", "X-Original-Message-ID", "Message-Id"}) {
            const auto hs = msg.headers_named(n);
            if (!hs.empty()) {
                std::string v = value_of(*hs.back());
                if (v != "\n" && v != " \n") r.push_back(v);
            }
        }
    } else {
        add_named(t.name);
    }
    if (r.empty()) return r;
    if (t.first) r.resize(1);
    else if (t.last) r.erase(r.begin(), r.end() - 1);
    if (t.addr || t.display_name) {
        std::vector<std::string> res;
        for (const auto& line : r) {
            for (auto& a : parse_addresses(line)) {
                if (t.addr) {
                    if (!a.address.empty()) res.push_back(a.address);
                } else if (a.phrase) {
                    std::string p = *a.phrase;
                    if (!t.raw) {
                        p = mail::decode_rfc2047(p);
                        std::string c;
                        bool sp = false;
                        for (char ch : p) {
                            if (is_space(ch)) { sp = true; continue; }
                            if (sp && !c.empty()) c += ' ';
                            sp = false;
                            c += ch;
                        }
                        if (c.size() >= 2 && c.front() == '\'' && c.back() == '\'') c = c.substr(1, c.size() - 2);
                        p = c;
                    }
                    res.push_back(p);
                }
            }
        }
        r = std::move(res);
    }
    if (t.ip) {
        std::vector<std::string> res;
        for (const auto& line : r) {
            // the first dotted quad
            for (std::size_t i = 0; i < line.size(); ++i) {
                if (!std::isdigit(static_cast<unsigned char>(line[i])) || (i > 0 && (std::isdigit(static_cast<unsigned char>(line[i - 1])) || line[i - 1] == '.'))) continue;
                std::size_t j = i;
                int dots = 0;
                while (j < line.size() && (std::isdigit(static_cast<unsigned char>(line[j])) || line[j] == '.')) {
                    if (line[j] == '.') ++dots;
                    ++j;
                }
                if (dots == 3 && line[j - 1] != '.') {
                    std::string ip = line.substr(i, j - i);
                    res.push_back(t.revip ? reverse_ip(ip) : ip);
                    break;
                }
                i = j;
            }
        }
        r = std::move(res);
    }
    return r;
}

std::optional<std::string> View::get_joined(const HeaderTarget& t) {
    auto v = get(t);
    if (v.empty()) return std::nullopt;
    bool nl = !v[0].empty() && v[0].back() == '\n';
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i && !nl) out += '\n';
        out += v[i];
    }
    return out;
}

}  // namespace pmx::spam::rules::detail
