#include "policy/address_match.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "util/text.hpp"

namespace pmx::policy {

namespace {

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool has_wildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

// Domain equal to key, or (tree) a subdomain of it.
bool domain_in_tree(std::string_view domain, std::string_view key) {
    if (iequals(domain, key)) return true;
    return domain.size() > key.size() && domain[domain.size() - key.size() - 1] == '.' &&
           iequals(domain.substr(domain.size() - key.size()), key);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

Result<void> check_chars(std::string_view text) {
    if (text.empty()) return Error{"empty pattern"};
    for (unsigned char c : text)
        if (c <= ' ' || c == 0x7f) return Error{fmt::format("\"{}\": spaces and control characters are not allowed", text)};
    return {};
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) { return ascii_iequals(a, b); }

std::string to_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = lower(c);
    return out;
}

bool glob_match(std::string_view p, std::string_view t) {
    // Iterative matcher with one backtrack point: linear for patterns with a single '*',
    // O(n*m) worst case otherwise; patterns are short and admin-written.
    size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == lower(t[ti]))) {
            ++pi;
            ++ti;
        } else if (pi < p.size() && p[pi] == '*') {
            star = pi++;
            mark = ti;
        } else if (star != std::string_view::npos) {
            pi = star + 1;
            ti = ++mark;
        } else {
            return false;
        }
    }
    while (pi < p.size() && p[pi] == '*') ++pi;
    return pi == p.size();
}

std::string_view domain_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? std::string_view{} : address.substr(at + 1);
}

std::string_view local_part_of(std::string_view address) {
    auto at = address.rfind('@');
    return at == std::string_view::npos ? address : address.substr(0, at);
}

Result<AddressPattern> AddressPattern::parse(std::string_view text) {
    AddressPattern p;
    p.written_ = std::string(text);
    if (text == "<>") {
        p.kind_ = Kind::NullSender;
        return p;
    }
    if (auto ok = check_chars(text); !ok) return ok.error();
    std::string key = to_lower(text);
    auto at = key.rfind('@');
    if (has_wildcard(key)) {
        p.kind_ = at == std::string::npos ? Kind::WildcardDomain : Kind::Wildcard;
        p.key_ = std::move(key);
        return p;
    }
    if (at == std::string::npos) {
        if (key.front() == '.') {
            if (key.size() == 1) return Error{"\".\" is not a domain"};
            p.kind_ = Kind::DomainTree;
            p.key_ = key.substr(1);
        } else {
            p.kind_ = Kind::Domain;
            p.key_ = std::move(key);
        }
        return p;
    }
    if (at == 0) {
        if (key.size() == 1) return Error{"\"@\" names no domain"};
        p.kind_ = key[1] == '.' ? Kind::DomainTree : Kind::Domain;
        p.key_ = key.substr(key[1] == '.' ? 2 : 1);
        if (p.key_.empty()) return Error{fmt::format("\"{}\" names no domain", text)};
        return p;
    }
    if (at == key.size() - 1) {
        p.kind_ = Kind::LocalPart;
        p.key_ = key.substr(0, at);
        return p;
    }
    p.kind_ = Kind::Exact;
    p.key_ = std::move(key);
    return p;
}

bool AddressPattern::matches(std::string_view address) const {
    switch (kind_) {
        case Kind::NullSender: return address.empty();
        case Kind::Exact: return iequals(address, key_);
        case Kind::Domain: return !address.empty() && iequals(domain_of(address), key_);
        case Kind::DomainTree: return !address.empty() && domain_in_tree(domain_of(address), key_);
        case Kind::LocalPart:
            return address.find('@') != std::string_view::npos && iequals(local_part_of(address), key_);
        case Kind::Wildcard: return !address.empty() && glob_match(key_, address);
        case Kind::WildcardDomain: return !address.empty() && glob_match(key_, domain_of(address));
    }
    return false;
}

Result<DomainPattern> DomainPattern::parse(std::string_view text) {
    DomainPattern p;
    p.written_ = std::string(text);
    if (auto ok = check_chars(text); !ok) return ok.error();
    if (text.find('@') != std::string_view::npos) return Error{fmt::format("\"{}\" is an address, not a domain", text)};
    std::string key = to_lower(text);
    if (has_wildcard(key)) {
        p.kind_ = Kind::Wildcard;
    } else if (key.front() == '.') {
        if (key.size() == 1) return Error{"\".\" is not a domain"};
        p.kind_ = Kind::Tree;
        key.erase(0, 1);
    }
    p.key_ = std::move(key);
    return p;
}

bool DomainPattern::matches(std::string_view domain) const {
    if (domain.empty()) return false;
    switch (kind_) {
        case Kind::Exact: return iequals(domain, key_);
        case Kind::Tree: return domain_in_tree(domain, key_);
        case Kind::Wildcard: return glob_match(key_, domain);
    }
    return false;
}

Result<HostnamePattern> HostnamePattern::parse(std::string_view text) {
    HostnamePattern p;
    p.written_ = std::string(text);
    if (iequals(text, "unknown")) {
        p.unknown_ = true;
        return p;
    }
    auto d = DomainPattern::parse(text);
    if (!d) return d.error();
    p.domain_ = std::move(*d);
    return p;
}

bool HostnamePattern::matches(std::string_view hostname) const {
    bool none = hostname.empty() || iequals(hostname, "unknown");
    if (unknown_) return none;
    return !none && domain_.matches(hostname);
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    char buf[64];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress ip;
    // Strip an IPv6 zone ("fe80::1%eth0") and brackets ("[::1]") as MTAs sometimes pass them.
    char* s = buf;
    if (*s == '[') {
        ++s;
        if (char* close = std::strchr(s, ']')) *close = '\0';
    }
    if (text.size() > 5 && (std::strncmp(s, "IPv6:", 5) == 0 || std::strncmp(s, "ipv6:", 5) == 0)) s += 5;
    if (char* zone = std::strchr(s, '%')) *zone = '\0';
    in_addr v4;
    if (inet_pton(AF_INET, s, &v4) == 1) {
        ip.bytes[10] = ip.bytes[11] = 0xff;
        std::memcpy(ip.bytes.data() + 12, &v4, 4);
        ip.v4 = true;
        return ip;
    }
    in6_addr v6;
    if (inet_pton(AF_INET6, s, &v6) == 1) {
        std::memcpy(ip.bytes.data(), &v6, 16);
        static constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        ip.v4 = std::memcmp(ip.bytes.data(), mapped, 12) == 0;
        return ip;
    }
    return std::nullopt;
}

Result<Cidr> Cidr::parse(std::string_view text) {
    Cidr c;
    c.written_ = std::string(text);
    auto slash = text.find('/');
    auto addr = text.substr(0, slash);
    auto ip = IpAddress::parse(addr);
    if (!ip) return Error{fmt::format("\"{}\" is not an IP address or CIDR range", text)};
    int max_bits = ip->v4 && addr.find(':') == std::string_view::npos ? 32 : 128;
    int bits = max_bits;
    if (slash != std::string_view::npos) {
        auto len = text.substr(slash + 1);
        if (len.empty() || len.size() > 3) return Error{fmt::format("\"{}\": bad prefix length", text)};
        bits = 0;
        for (char ch : len) {
            if (ch < '0' || ch > '9') return Error{fmt::format("\"{}\": bad prefix length", text)};
            bits = bits * 10 + (ch - '0');
        }
        if (bits > max_bits) return Error{fmt::format("\"{}\": prefix length above {}", text, max_bits)};
    }
    c.net_ = *ip;
    c.prefix_ = max_bits == 32 ? bits + 96 : bits;
    // Clear host bits so "192.0.2.7/24" means the /24.
    for (int i = 0; i < 16; ++i) {
        int keep = std::clamp(c.prefix_ - i * 8, 0, 8);
        c.net_.bytes[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
    }
    return c;
}

bool Cidr::contains(const IpAddress& ip) const {
    int full = prefix_ / 8, rest = prefix_ % 8;
    if (std::memcmp(ip.bytes.data(), net_.bytes.data(), full) != 0) return false;
    if (rest == 0) return true;
    std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (ip.bytes[full] & mask) == net_.bytes[full];
}

std::vector<std::string> extract_addresses(std::string_view v) {
    std::vector<std::string> out;
    std::string current, angle;
    bool in_quote = false, in_angle = false, have_angle = false;
    int comment = 0;
    auto flush = [&] {
        std::string addr{trim(have_angle ? angle : current)};
        // A group "Name: a@x, b@y;" - the display name ends at the colon.
        if (!have_angle) {
            if (auto colon = addr.find(':'); colon != std::string::npos) addr = std::string(trim(addr.substr(colon + 1)));
        }
        if (!addr.empty() && addr.back() == ';') addr.pop_back();
        addr = std::string(trim(addr));
        if (addr.find('@') != std::string::npos && addr.find(' ') == std::string::npos) out.push_back(addr);
        current.clear();
        angle.clear();
        have_angle = false;
    };
    for (size_t i = 0; i < v.size(); ++i) {
        char c = v[i];
        if (in_quote) {
            if (c == '\\' && i + 1 < v.size()) ++i;
            else if (c == '"') in_quote = false;
            continue;
        }
        if (comment > 0) {
            if (c == '\\' && i + 1 < v.size()) ++i;
            else if (c == '(') ++comment;
            else if (c == ')') --comment;
            continue;
        }
        if (in_angle) {
            if (c == '>') in_angle = false;
            else angle += c;
            continue;
        }
        switch (c) {
            case '"': in_quote = true; break;
            case '(': comment = 1; break;
            case '<': in_angle = true; have_angle = true; angle.clear(); break;
            case ',': flush(); break;
            case ';': flush(); break;
            case '\r': case '\n': break;
            default: current += c;
        }
    }
    flush();
    return out;
}

}  // namespace pmx::policy
