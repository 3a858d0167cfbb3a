// URI extraction for uri rules and URI blocklists: HTML link attributes, then URIs written in text.
#include "spam/uris.hpp"

#include <algorithm>
#include <cctype>
#include <unordered_set>

namespace pmx::spam {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

bool istarts(std::string_view s, std::size_t pos, std::string_view prefix) {
    if (pos + prefix.size() > s.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (lower(s[pos + i]) != prefix[i]) return false;
    return true;
}

bool uri_char(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return false;
    return c != '<' && c != '>' && c != '"' && c != '`' && c != '{' && c != '}' && c != '|' && c != '\\' && c != '^';
}

bool host_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || static_cast<unsigned char>(c) >= 0x80;
}

int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// What SpamAssassin's uri_list_canonicalize adds besides the URI as written: the %-decoded URI,
// and a host written as one number (decimal or 0x hex, "http://3221225985/") as a dotted quad.
std::vector<std::string> canonical_variants(const std::string& u) {
    std::vector<std::string> out;
    std::string dec;
    for (std::size_t i = 0; i < u.size(); ++i) {
        if (u[i] == '%' && i + 2 < u.size() && hexval(u[i + 1]) >= 0 && hexval(u[i + 2]) >= 0) {
            char c = static_cast<char>(hexval(u[i + 1]) * 16 + hexval(u[i + 2]));
            if (static_cast<unsigned char>(c) > 0x20 && c != 0x7f) {
                dec += c;
                i += 2;
                continue;
            }
        }
        dec += u[i];
    }
    const std::string& base = dec != u ? dec : u;
    if (dec != u) out.push_back(dec);
    std::size_t sep = base.find("://");
    if (sep != std::string::npos) {
        std::size_t hs = sep + 3;
        std::size_t he = base.find_first_of("/?#", hs);
        if (he == std::string::npos) he = base.size();
        std::size_t at = base.rfind('@', he);
        if (at != std::string::npos && at >= hs) {  // user:password@host: the host alone too
            out.push_back(base.substr(0, hs) + base.substr(at + 1));
            hs = at + 1;
        }
        std::string host = base.substr(hs, he - hs);
        if (auto colon = host.find(':'); colon != std::string::npos) {  // port
            he = hs + colon;
            host.resize(colon);
        }
        unsigned long long v = 0;
        bool ok = !host.empty() && host.size() <= 300;
        if (ok && host.size() > 2 && host[0] == '0' && lower(host[1]) == 'x') {
            for (std::size_t k = 2; k < host.size() && ok; ++k) {
                int h = hexval(host[k]);
                if (h < 0) ok = false;
                else v = (v * 16 + static_cast<unsigned>(h)) & 0xFFFFFFFFull;
            }
        } else {
            for (char c : host) {
                if (!std::isdigit(static_cast<unsigned char>(c))) { ok = false; break; }
                v = (v * 10 + static_cast<unsigned>(c - '0')) & 0xFFFFFFFFull;  // overflow wraps, as old browsers did
            }
        }
        if (ok && host.size() >= 8 && v > 0xFFFFFF) {
            std::string quad = std::to_string((v >> 24) & 255) + "." + std::to_string((v >> 16) & 255) + "." +
                               std::to_string((v >> 8) & 255) + "." + std::to_string(v & 255);
            out.push_back(base.substr(0, hs) + quad + base.substr(he));
        }
    }
    return out;
}

class Collector {
public:
    explicit Collector(std::size_t max) : max_(max) {}
    bool full() const { return out_.size() >= max_; }
    void add(std::string u) {
        while (!u.empty() && (u.back() == '.' || u.back() == ',' || u.back() == ';' || u.back() == ':' ||
                              u.back() == '!' || u.back() == '?' || u.back() == ')' || u.back() == '\'' ||
                              u.back() == ']'))
            u.pop_back();
        if (u.empty() || u.size() > 8192 || full()) return;
        // SpamAssassin's canonical form of schemeless links
        if (istarts(u, 0, "www.")) u = "http://" + u;
        else if (istarts(u, 0, "ftp.")) u = "ftp://" + u;
        std::vector<std::string> variants = canonical_variants(u);
        if (seen_.insert(u).second) out_.push_back(std::move(u));
        for (auto& v : variants)
            if (!full() && seen_.insert(v).second) out_.push_back(std::move(v));
    }
    std::vector<std::string> take() { return std::move(out_); }

private:
    std::size_t max_;
    std::vector<std::string> out_;
    std::unordered_set<std::string> seen_;
};

std::string decode_entities(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '&') {
            if (v.substr(i, 5) == "&amp;") { out += '&'; i += 4; continue; }
            if (v.substr(i, 2) == "&#") {
                std::size_t j = i + 2;
                bool hex = j < v.size() && (v[j] == 'x' || v[j] == 'X');
                if (hex) ++j;
                unsigned long cp = 0;
                std::size_t k = j;
                while (k < v.size() && k - j < 7 && std::isxdigit(static_cast<unsigned char>(v[k])) &&
                       (hex || std::isdigit(static_cast<unsigned char>(v[k])))) {
                    cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(v[k])) ? v[k] - '0' : (lower(v[k]) - 'a' + 10));
                    ++k;
                }
                if (k > j && cp > 0 && cp < 0x80) {
                    out += static_cast<char>(cp);
                    i = (k < v.size() && v[k] == ';') ? k : k - 1;
                    continue;
                }
            }
        }
        out += v[i];
    }
    return out;
}

// Link attributes of HTML tags.
void from_html(std::string_view html, Collector& c) {
    static constexpr std::string_view attrs[] = {"href", "src", "action", "background", "formaction", "data",
                                                 "cite", "longdesc", "lowsrc", "poster"};
    std::size_t pos = 0;
    while (!c.full() && (pos = html.find('<', pos)) != std::string_view::npos) {
        std::size_t end = html.find('>', pos);
        if (end == std::string_view::npos) end = html.size();
        std::string_view tag = html.substr(pos, end - pos);
        pos = end;
        if (tag.size() < 3 || !std::isalpha(static_cast<unsigned char>(tag[1]))) continue;
        // attributes: name = value
        std::size_t i = 1;
        while (i < tag.size() && !std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
        while (i < tag.size()) {
            while (i < tag.size() && (std::isspace(static_cast<unsigned char>(tag[i])) || tag[i] == '/')) ++i;
            std::size_t ns = i;
            while (i < tag.size() && tag[i] != '=' && !std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
            std::string name;
            for (std::size_t k = ns; k < i; ++k) name += lower(tag[k]);
            while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
            if (i >= tag.size() || tag[i] != '=') {
                if (i == ns) ++i;
                continue;
            }
            ++i;
            while (i < tag.size() && std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
            std::string_view value;
            if (i < tag.size() && (tag[i] == '"' || tag[i] == '\'')) {
                char q = tag[i++];
                std::size_t close = tag.find(q, i);
                if (close == std::string_view::npos) close = tag.size();
                value = tag.substr(i, close - i);
                i = close + 1;
            } else {
                std::size_t vs = i;
                while (i < tag.size() && !std::isspace(static_cast<unsigned char>(tag[i]))) ++i;
                value = tag.substr(vs, i - vs);
            }
            if (std::find(std::begin(attrs), std::end(attrs), name) == std::end(attrs)) continue;
            std::string v = decode_entities(value);
            // trim, drop whitespace inside (mail clients ignore it)
            std::string t;
            for (char ch : v)
                if (!std::isspace(static_cast<unsigned char>(ch))) t += ch;
            if (t.empty() || t[0] == '#' || istarts(t, 0, "javascript:") || istarts(t, 0, "cid:") ||
                istarts(t, 0, "data:"))
                continue;
            if (t.find(':') == std::string::npos && !istarts(t, 0, "www.") && !istarts(t, 0, "ftp.")) continue;  // relative
            c.add(std::move(t));
        }
    }
}

// URIs written in text: scheme://..., www., ftp., mailto:, and bare addresses.
void from_text(std::string_view s, Collector& c) {
    static constexpr std::string_view schemes[] = {"http://", "https://", "ftp://", "mailto:", "www.", "ftp."};
    for (std::size_t i = 0; i < s.size() && !c.full(); ++i) {
        char ch = lower(s[i]);
        if (ch != 'h' && ch != 'f' && ch != 'm' && ch != 'w' && ch != '@') continue;
        if (ch == '@') {
            // bare user@host.tld
            std::size_t b = i;
            while (b > 0 && (std::isalnum(static_cast<unsigned char>(s[b - 1])) || std::string_view("._%+-").find(s[b - 1]) != std::string_view::npos)) --b;
            std::size_t e = i + 1;
            while (e < s.size() && host_char(s[e])) ++e;
            while (e > i + 1 && s[e - 1] == '.') --e;
            std::string_view host = s.substr(i + 1, e - i - 1);
            if (b < i && host.find('.') != std::string_view::npos && host.front() != '.') {
                if (b >= 7 && istarts(s, b - 7, "mailto:")) { i = e; continue; }  // taken as mailto: already
                c.add("mailto:" + std::string(s.substr(b, e - b)));
            }
            i = e;
            continue;
        }
        if (i > 0 && (std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '.' || s[i - 1] == '/' || s[i - 1] == '@')) continue;
        for (std::string_view sc : schemes) {
            if (!istarts(s, i, sc)) continue;
            std::size_t e = i + sc.size();
            while (e < s.size() && uri_char(s[e])) ++e;
            if (e == i + sc.size()) break;
            std::string u(s.substr(i, e - i));
            if ((sc == "www." || sc == "ftp.") && u.find('.', sc.size()) == std::string::npos) break;  // "www.foo" alone
            c.add(std::move(u));
            i = e - 1;
            break;
        }
    }
}

}  // namespace

std::vector<std::string> extract_uris(const mail::ParsedMessage& message, std::size_t max_uris) {
    Collector c(max_uris);
    from_html(message.html, c);
    from_text(message.text, c);
    return c.take();
}

std::string uri_host(std::string_view uri) {
    std::string_view rest;
    if (istarts(uri, 0, "mailto:")) {
        rest = uri.substr(7);
        std::size_t q = rest.find_first_of("?#");
        rest = rest.substr(0, q);
        std::size_t at = rest.rfind('@');
        if (at == std::string_view::npos) return "";
        rest = rest.substr(at + 1);
    } else {
        std::size_t sep = uri.find("://");
        if (sep == std::string_view::npos) return "";
        std::string_view scheme = uri.substr(0, sep);
        bool ok = false;
        for (std::string_view s : {"http", "https", "ftp"})
            if (scheme.size() == s.size() && istarts(scheme, 0, s)) ok = true;
        if (!ok) return "";
        rest = uri.substr(sep + 3);
        rest = rest.substr(0, rest.find_first_of("/?#\\"));
        std::size_t at = rest.rfind('@');
        if (at != std::string_view::npos) rest = rest.substr(at + 1);
        if (!rest.empty() && rest.front() == '[') {
            std::size_t close = rest.find(']');
            rest = rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
        } else {
            rest = rest.substr(0, rest.find(':'));
        }
    }
    std::string host;
    for (char ch : rest) {
        if (!host_char(ch) && ch != ':') return "";
        host += lower(ch);
    }
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (host.empty() || host.size() > 253) return "";
    return host;
}

std::vector<std::string> uri_hosts(const std::vector<std::string>& uris, std::size_t max_hosts) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const auto& u : uris) {
        if (out.size() >= max_hosts) break;
        std::string h = uri_host(u);
        if (!h.empty() && seen.insert(h).second) out.push_back(std::move(h));
    }
    return out;
}

std::vector<std::string> uri_hosts(const mail::ParsedMessage& message, std::size_t max_hosts) {
    return uri_hosts(extract_uris(message), max_hosts);
}

}  // namespace pmx::spam
