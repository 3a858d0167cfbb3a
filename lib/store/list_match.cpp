#include "util/text.hpp"
#include "store/list_match.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace pmx::store {

namespace {

struct Ip {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};  // IPv4 in the first 4
};

struct Net {
    Ip ip;
    int prefix = 0;
};

bool has_wildcard(std::string_view s) { return s.find_first_of("*?") != std::string_view::npos; }

std::optional<Ip> parse_ip(std::string_view text) {
    if (text.empty() || text.size() > 63) return std::nullopt;
    char buf[64];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = 0;
    Ip ip;
    if (text.find(':') == std::string_view::npos) {
        if (inet_pton(AF_INET, buf, ip.bytes.data()) != 1) return std::nullopt;
        return ip;
    }
    if (inet_pton(AF_INET6, buf, ip.bytes.data()) != 1) return std::nullopt;
    static constexpr unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(ip.bytes.data(), mapped, 12) == 0) {
        std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
        std::fill(ip.bytes.begin() + 4, ip.bytes.end(), 0);
        return ip;
    }
    ip.v6 = true;
    return ip;
}

void clear_host_bits(Ip& ip, int prefix) {
    int bits = ip.v6 ? 128 : 32;
    for (int i = prefix; i < bits; ++i) ip.bytes[i / 8] &= static_cast<unsigned char>(~(0x80u >> (i % 8)));
}

// "address" or "address/prefix"; the error (when not nullopt and not a Net) says why.
std::optional<Net> parse_net(std::string_view text, std::string* error = nullptr) {
    auto slash = text.find('/');
    bool mapped_v6 = text.substr(0, slash).find(':') != std::string_view::npos;
    auto ip = parse_ip(text.substr(0, slash));
    if (!ip) {
        if (error) *error = "not an IP address";
        return std::nullopt;
    }
    Net net{*ip, ip->v6 ? 128 : 32};
    if (slash != std::string_view::npos) {
        auto len = text.substr(slash + 1);
        int prefix = -1;
        auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
        int max = (ip->v6 || mapped_v6) ? 128 : 32;
        if (len.empty() || ec != std::errc() || p != len.data() + len.size() || prefix < 0 || prefix > max) {
            if (error) *error = fmt::format("the prefix length must be 0 to {}", max);
            return std::nullopt;
        }
        if (mapped_v6 && !ip->v6) {  // ::ffff:192.0.2.0/120 is 192.0.2.0/24
            if (prefix < 96) {
                if (error) *error = "an IPv4-mapped network needs a prefix length of at least 96";
                return std::nullopt;
            }
            prefix -= 96;
        }
        net.prefix = prefix;
    }
    clear_host_bits(net.ip, net.prefix);
    return net;
}

std::string format_ip(const Ip& ip) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf);
    return buf;
}

std::string format_net(const Net& n) {
    if (n.prefix == (n.ip.v6 ? 128 : 32)) return format_ip(n.ip);
    return fmt::format("{}/{}", format_ip(n.ip), n.prefix);
}

bool contains(const Net& n, const Ip& ip) {
    if (n.ip.v6 != ip.v6) return false;
    Ip masked = ip;
    clear_host_bits(masked, n.prefix);
    return masked.bytes == n.ip.bytes;
}

bool looks_numeric(std::string_view s) {
    // "192.0.2.300", "10.1/8", "2001:db8::zz": meant as an address, not a host name
    if (s.find(':') != std::string_view::npos) return true;
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '/'; });
}

// Domain or host name characters, plus wildcards; bytes >= 0x80 are let through (IDN in UTF-8).
Result<void> check_name(std::string_view name, std::string_view what, std::string_view original) {
    if (name.empty() || name == ".") return Error{fmt::format("\"{}\" has no {}", original, what)};
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '*' ||
                  c == '?' || u >= 0x80;
        if (!ok) return Error{fmt::format("\"{}\" is not a valid {}: unexpected character '{}'", original, what, c)};
    }
    if (name.find("..") != std::string_view::npos || name.front() == '.' || name.back() == '.')
        return Error{fmt::format("\"{}\" is not a valid {}: empty label", original, what)};
    return {};
}

Result<std::string> normalize_sender(std::string_view original) {
    auto p = trim(original);
    if (p.empty()) return Error{"Empty sender pattern"};
    if (p == "<>") return std::string("<>");
    if (p.size() > 2 && p.front() == '<' && p.back() == '>') p = p.substr(1, p.size() - 2);
    std::string s = ascii_lower(p);
    if (s.size() > 320) return Error{fmt::format("Sender pattern \"{}\" is too long", original)};
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f || c == '<' || c == '>')
            return Error{fmt::format("\"{}\" is not a valid sender pattern: unexpected character", original)};
    }
    if (s.front() == '#') return Error{fmt::format("\"{}\" is not a valid sender pattern: starts with #", original)};
    if (std::count(s.begin(), s.end(), '@') > 1)
        return Error{fmt::format("\"{}\" is not a valid sender pattern: more than one @", original)};
    if (s.front() == '@') s.erase(0, 1);  // "@example.com" is the domain "example.com"
    auto at = s.find('@');
    if (at != std::string::npos && at + 1 == s.size()) {  // "postmaster@": that local part at any domain
        if (has_wildcard(s))
            return Error{fmt::format("\"{}\" is not a valid sender pattern: write {}* to match any domain", original, s)};
        return s;
    }
    std::string_view domain = at == std::string::npos ? std::string_view(s) : std::string_view(s).substr(at + 1);
    if (domain.empty()) return Error{fmt::format("\"{}\" is not a valid sender pattern: no domain after @", original)};
    if (domain.back() == '.') {
        s.pop_back();
        domain.remove_suffix(1);
    }
    std::string_view name = domain;
    if (at == std::string::npos && !name.empty() && name.front() == '.') name.remove_prefix(1);
    if (auto r = check_name(name, "domain", original); !r) return r.error();
    return s;
}

Result<std::string> normalize_host(std::string_view original) {
    auto p = trim(original);
    if (p.empty()) return Error{"Empty host pattern"};
    if (p.size() > 2 && p.front() == '[' && p.back() == ']') p = p.substr(1, p.size() - 2);  // [192.0.2.7]
    std::string s = ascii_lower(p);
    if (s.size() > 255) return Error{fmt::format("Host pattern \"{}\" is too long", original)};
    if (looks_numeric(s)) {
        std::string why;
        auto net = parse_net(s, &why);
        if (!net) return Error{fmt::format("\"{}\" is not a valid IP address or network: {}", original, why)};
        return format_net(*net);
    }
    if (s.find('@') != std::string::npos)
        return Error{fmt::format("\"{}\" is an address: host patterns are IP addresses, networks and host names",
                                 original)};
    if (s.back() == '.') s.pop_back();
    std::string_view name = s;
    if (!name.empty() && name.front() == '.') name.remove_prefix(1);
    if (auto r = check_name(name, "host name", original); !r) return r.error();
    return s;
}

struct Sender {
    bool null = false;
    std::string address;     // lowercase, without <>
    std::string_view domain; // into address: after the last @, "" when none
};

Sender split_sender(std::string_view raw) {
    auto s = trim(raw);
    if (s.size() >= 2 && s.front() == '<' && s.back() == '>') s = s.substr(1, s.size() - 2);
    Sender out;
    out.address = ascii_lower(s);
    out.null = out.address.empty();
    auto at = out.address.rfind('@');
    if (at != std::string::npos) out.domain = std::string_view(out.address).substr(at + 1);
    if (!out.domain.empty() && out.domain.back() == '.') out.domain.remove_suffix(1);
    return out;
}

// "" when the client has no verified name.
std::string client_name(std::string_view hostname) {
    auto h = trim(hostname);
    if (h.empty() || h.front() == '[' || h == "unknown") return {};
    std::string out = ascii_lower(h);
    if (out.back() == '.') out.pop_back();
    return out;
}

std::optional<Ip> parse_client_ip(std::string_view raw) {
    auto s = trim(raw);
    if (s.size() > 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
    if (s.size() > 5 && (s[0] == 'I' || s[0] == 'i') && ascii_lower(s.substr(0, 5)) == "ipv6:") s.remove_prefix(5);
    if (auto pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
    return parse_ip(s);
}

bool domain_in_tree(std::string_view domain, std::string_view tree /* ".example.com" */) {
    auto base = tree.substr(1);
    return domain == base || (domain.size() > tree.size() && domain.substr(domain.size() - tree.size()) == tree);
}

}  // namespace

std::string_view type_name(EntryType type) { return type == EntryType::Sender ? "sender" : "host"; }

std::optional<EntryType> parse_type(std::string_view text) {
    if (text == "sender") return EntryType::Sender;
    if (text == "host") return EntryType::Host;
    return std::nullopt;
}

Result<std::string> normalize_pattern(EntryType type, std::string_view pattern) {
    return type == EntryType::Sender ? normalize_sender(pattern) : normalize_host(pattern);
}

InferredType infer_type(std::string_view pattern) {
    auto p = trim(pattern);
    if (p == "<>" || p.find('@') != std::string_view::npos) return {EntryType::Sender, true};
    if (p.size() > 2 && p.front() == '[' && p.back() == ']') return {EntryType::Host, true};
    if (looks_numeric(p)) return {EntryType::Host, true};
    return {EntryType::Sender, false};
}

std::string_view describe_pattern(EntryType type, std::string_view p) {
    if (type == EntryType::Sender) {
        if (p == "<>") return "null sender";
        if (auto at = p.find('@'); at != std::string_view::npos) {
            if (at + 1 == p.size()) return "local part at any domain";
            return has_wildcard(p) ? "address wildcard" : "address";
        }
        if (has_wildcard(p)) return "domain wildcard";
        return (!p.empty() && p.front() == '.') ? "domain and its subdomains" : "domain";
    }
    if (auto net = parse_net(p)) {
        bool single = net->prefix == (net->ip.v6 ? 128 : 32);
        if (net->ip.v6) return single ? "IPv6 address" : "IPv6 network";
        return single ? "IPv4 address" : "IPv4 network";
    }
    if (p == "unknown") return "client without a verified host name";
    if (has_wildcard(p)) return "host name wildcard";
    return (!p.empty() && p.front() == '.') ? "host name and its subdomains" : "host name";
}

bool glob_match(std::string_view p, std::string_view t) {
    size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
    while (ti < t.size()) {
        if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
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

bool sender_matches(std::string_view pattern, std::string_view sender) {
    auto s = split_sender(sender);
    if (pattern == "<>") return s.null;
    if (s.null) return false;
    if (auto at = pattern.find('@'); at != std::string_view::npos) {
        if (at + 1 == pattern.size()) {  // "postmaster@"
            auto sat = s.address.rfind('@');
            return sat != std::string::npos && std::string_view(s.address).substr(0, sat) == pattern.substr(0, at);
        }
        return has_wildcard(pattern) ? glob_match(pattern, s.address) : pattern == s.address;
    }
    if (s.domain.empty()) return false;
    if (has_wildcard(pattern)) return glob_match(pattern, s.domain);
    if (!pattern.empty() && pattern.front() == '.') return domain_in_tree(s.domain, pattern);
    return pattern == s.domain;
}

bool host_matches(std::string_view pattern, std::string_view ip, std::string_view hostname) {
    if (looks_numeric(pattern)) {
        auto net = parse_net(pattern);
        auto client = parse_client_ip(ip);
        return net && client && contains(*net, *client);
    }
    auto name = client_name(hostname);
    if (pattern == "unknown") return name.empty();
    if (name.empty()) return false;
    if (has_wildcard(pattern)) return glob_match(pattern, name);
    if (!pattern.empty() && pattern.front() == '.') return domain_in_tree(name, pattern);
    return pattern == name;
}

std::optional<std::string> normalize_client_ip(std::string_view raw) {
    auto ip = parse_client_ip(raw);
    if (!ip) return std::nullopt;
    return format_ip(*ip);
}

// ---- CompiledList ----

const std::string* CompiledList::find(const StringMap& map, std::string_view key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
}

const std::string* CompiledList::find_in_tree(const StringMap& map, std::string_view domain) {
    if (map.empty()) return nullptr;
    for (;;) {
        if (auto* p = find(map, domain)) return p;
        auto dot = domain.find('.');
        if (dot == std::string_view::npos) return nullptr;
        domain.remove_prefix(dot + 1);
    }
}

const std::string* CompiledList::find_below(const StringMap& map, std::string_view domain) {
    if (map.empty()) return nullptr;
    for (auto dot = domain.find('.'); dot != std::string_view::npos; dot = domain.find('.')) {
        domain.remove_prefix(dot + 1);
        if (auto* p = find(map, domain)) return p;
    }
    return nullptr;
}

std::optional<std::string_view> CompiledList::subdomain_glob(std::string_view p) {
    if (!p.starts_with("*.") || p.size() < 3) return std::nullopt;
    auto rest = p.substr(2);
    if (has_wildcard(rest) || rest.front() == '.') return std::nullopt;
    return rest;
}

const std::string* CompiledList::find_glob(const std::vector<std::string>& globs, std::string_view text) {
    for (const auto& g : globs)
        if (glob_match(g, text)) return &g;
    return nullptr;
}

bool CompiledList::add(EntryType type, std::string_view p) {
    if (p.empty()) return false;
    std::string pattern(p);
    if (type == EntryType::Sender) {
        auto at = p.find('@');
        if (p == "<>") {
            null_sender_ = pattern;
        } else if (at != std::string_view::npos) {
            if (at + 1 == p.size()) {
                local_parts_.emplace(p.substr(0, at), pattern);
            } else if (!has_wildcard(p)) {
                addresses_.emplace(p, pattern);
            } else if (p.starts_with("*@") && !has_wildcard(p.substr(2))) {
                domains_.emplace(p.substr(2), pattern);  // "*@example.com" is the domain example.com
            } else if (auto below = p.starts_with("*@") ? subdomain_glob(p.substr(2)) : std::nullopt) {
                subdomains_.emplace(*below, pattern);  // "*@*.example.com"
            } else {
                address_globs_.push_back(pattern);
            }
        } else if (auto below = subdomain_glob(p)) {
            subdomains_.emplace(*below, pattern);  // "*.example.com"
        } else if (has_wildcard(p)) {
            domain_globs_.push_back(pattern);
        } else if (p.front() == '.') {
            domain_trees_.emplace(p.substr(1), pattern);
        } else {
            domains_.emplace(p, pattern);
        }
        ++size_;
        return true;
    }
    if (looks_numeric(p)) {
        auto net = parse_net(p);
        if (!net) return false;
        if (!net->ip.v6) {
            std::uint32_t v = (std::uint32_t{net->ip.bytes[0]} << 24) | (std::uint32_t{net->ip.bytes[1]} << 16) |
                              (std::uint32_t{net->ip.bytes[2]} << 8) | net->ip.bytes[3];
            auto it = std::find_if(v4_.begin(), v4_.end(), [&](const auto& b) { return b.first == net->prefix; });
            if (it == v4_.end()) it = v4_.insert(v4_.end(), {net->prefix, {}});
            it->second.emplace(v, pattern);
        } else {
            V6 v{0, 0};
            for (int i = 0; i < 8; ++i) v.hi = (v.hi << 8) | net->ip.bytes[i];
            for (int i = 8; i < 16; ++i) v.lo = (v.lo << 8) | net->ip.bytes[i];
            auto it = std::find_if(v6_.begin(), v6_.end(), [&](const auto& b) { return b.first == net->prefix; });
            if (it == v6_.end()) it = v6_.insert(v6_.end(), {net->prefix, {}});
            it->second.emplace(v, pattern);
        }
    } else if (p == "unknown") {
        unknown_host_ = pattern;
    } else if (auto below = subdomain_glob(p)) {
        host_subdomains_.emplace(*below, pattern);
    } else if (has_wildcard(p)) {
        host_globs_.push_back(pattern);
    } else if (p.front() == '.') {
        host_trees_.emplace(p.substr(1), pattern);
    } else {
        hosts_.emplace(p, pattern);
    }
    ++size_;
    return true;
}

const std::string* CompiledList::sender_entry(std::string_view sender) const {
    if (size_ == 0) return nullptr;
    auto s = split_sender(sender);
    if (s.null) return null_sender_.empty() ? nullptr : &null_sender_;
    if (auto* e = find(addresses_, s.address)) return e;
    auto at = s.address.rfind('@');
    if (at != std::string::npos && !local_parts_.empty())
        if (auto* e = find(local_parts_, std::string_view(s.address).substr(0, at))) return e;
    if (!s.domain.empty()) {
        if (auto* e = find(domains_, s.domain)) return e;
        if (auto* e = find_in_tree(domain_trees_, s.domain)) return e;
        if (auto* e = find_below(subdomains_, s.domain)) return e;
        if (auto* e = find_glob(domain_globs_, s.domain)) return e;
    }
    return find_glob(address_globs_, s.address);
}

const std::string* CompiledList::host_entry(std::string_view ip_text, std::string_view hostname) const {
    if (size_ == 0) return nullptr;
    if (!v4_.empty() || !v6_.empty()) {
        if (auto ip = parse_client_ip(ip_text)) {
            if (!ip->v6) {
                std::uint32_t v = (std::uint32_t{ip->bytes[0]} << 24) | (std::uint32_t{ip->bytes[1]} << 16) |
                                  (std::uint32_t{ip->bytes[2]} << 8) | ip->bytes[3];
                for (const auto& [prefix, map] : v4_) {
                    std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
                    if (auto it = map.find(v & mask); it != map.end()) return &it->second;
                }
            } else {
                V6 v{0, 0};
                for (int i = 0; i < 8; ++i) v.hi = (v.hi << 8) | ip->bytes[i];
                for (int i = 8; i < 16; ++i) v.lo = (v.lo << 8) | ip->bytes[i];
                for (const auto& [prefix, map] : v6_) {
                    V6 m = v;
                    if (prefix <= 64) {
                        m.hi = prefix == 0 ? 0 : v.hi & (~std::uint64_t{0} << (64 - prefix));
                        m.lo = 0;
                    } else if (prefix < 128) {
                        m.lo = v.lo & (~std::uint64_t{0} << (128 - prefix));
                    }
                    if (auto it = map.find(m); it != map.end()) return &it->second;
                }
            }
        }
    }
    if (hosts_.empty() && host_trees_.empty() && host_subdomains_.empty() && host_globs_.empty() && unknown_host_.empty())
        return nullptr;
    auto name = client_name(hostname);
    if (name.empty()) return unknown_host_.empty() ? nullptr : &unknown_host_;
    if (auto* e = find(hosts_, name)) return e;
    if (auto* e = find_in_tree(host_trees_, name)) return e;
    if (auto* e = find_below(host_subdomains_, name)) return e;
    return find_glob(host_globs_, name);
}

}  // namespace pmx::store
