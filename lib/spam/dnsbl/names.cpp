// The names looked up: reversed client addresses, and URI hosts cut to their registered domain.
#include <arpa/inet.h>

#include <algorithm>
#include <iterator>

#include "spam/dnsbl/dnsbl.hpp"
#include "util/text.hpp"

namespace pmx::spam::dnsbl {

namespace {

// Two-label public suffixes under which people register a third label. A small list instead of
// the Public Suffix List: the common ones in spam. Anything else counts as a one-label suffix
// (example.co.za is then looked up as co.za as well as the full host; see uri_lookup_names).
constexpr std::string_view multi_label_suffixes[] = {
    "ac.uk",  "co.uk",  "gov.uk", "ltd.uk", "me.uk",  "net.uk", "org.uk", "plc.uk", "sch.uk",
    "com.au", "net.au", "org.au", "edu.au", "gov.au", "id.au",  "co.nz",  "net.nz", "org.nz",
    "co.jp",  "ne.jp",  "or.jp",  "ac.jp",  "go.jp",  "co.kr",  "or.kr",  "co.in",  "net.in",
    "org.in", "co.za",  "org.za", "co.il",  "org.il", "co.id",  "or.id",  "com.br", "net.br",
    "org.br", "com.cn", "net.cn", "org.cn", "gov.cn", "com.hk", "com.tw", "com.sg", "com.my",
    "com.mx", "com.ar", "com.co", "com.tr", "com.ua", "com.pl", "com.ru", "com.vn", "com.ph",
    "com.pk", "com.ng", "com.eg", "com.sa", "com.pe", "com.ve", "co.th",  "in.th",  "co.ve",
    "co.ke",  "co.tz",  "co.ug",  "com.np", "com.bd", "eu.org", "us.com",
};

bool is_multi_label_suffix(std::string_view s) {
    return std::find(std::begin(multi_label_suffixes), std::end(multi_label_suffixes), s) != std::end(multi_label_suffixes);
}

// Lower case, without a trailing dot; empty when not a host name we can look up.
std::string normalize_host(std::string_view host) {
    std::string h = ascii_lower(trim(host));
    if (!h.empty() && h.back() == '.') h.pop_back();
    if (h.empty() || h.size() > 180) return {};  // leaves room for the zone in 253 bytes
    std::size_t label = 0;
    for (char c : h) {
        if (c == '.') {
            if (label == 0) return {};
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) return {};
    }
    return label == 0 ? std::string{} : h;
}

}  // namespace

std::optional<std::string> reversed_ip(std::string_view ip) {
    std::string text(trim(ip));
    // "[192.0.2.1]" and "IPv6:2001:db8::1" as Postfix and Received headers write them.
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    if (text.size() > 5 && ascii_lower(text.substr(0, 5)) == "ipv6:") text = text.substr(5);
    in_addr a4{};
    if (inet_pton(AF_INET, text.c_str(), &a4) == 1) {
        auto b = reinterpret_cast<const unsigned char*>(&a4.s_addr);
        return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
               std::to_string(b[0]);
    }
    in6_addr a6{};
    if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) {
        // An IPv4-mapped address (::ffff:192.0.2.1) is the IPv4 client it stands for.
        if (IN6_IS_ADDR_V4MAPPED(&a6)) {
            const auto* b = a6.s6_addr;
            return std::to_string(b[15]) + "." + std::to_string(b[14]) + "." + std::to_string(b[13]) + "." +
                   std::to_string(b[12]);
        }
        static constexpr char hex[] = "0123456789abcdef";
        std::string out;
        out.reserve(64);
        for (int i = 15; i >= 0; --i) {
            out += hex[a6.s6_addr[i] & 0xf];
            out += '.';
            out += hex[a6.s6_addr[i] >> 4];
            if (i) out += '.';
        }
        return out;
    }
    return std::nullopt;
}

std::optional<std::string> registered_domain(std::string_view host) {
    std::string h = normalize_host(host);
    if (h.empty()) return std::nullopt;
    auto last = h.rfind('.');
    if (last == std::string::npos) return std::nullopt;  // a single label: a TLD or a local name
    auto second = last == 0 ? std::string::npos : h.rfind('.', last - 1);
    std::string two = second == std::string::npos ? h : h.substr(second + 1);
    if (!is_multi_label_suffix(two)) return two;
    if (second == std::string::npos) return std::nullopt;  // "co.uk" itself
    auto third = second == 0 ? std::string::npos : h.rfind('.', second - 1);
    return third == std::string::npos ? h : h.substr(third + 1);
}

std::vector<std::string> uri_lookup_names(std::string_view host) {
    std::string text(trim(host));
    if (text.size() > 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
    in_addr a4{};
    if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return {*reversed_ip(text)};
    in6_addr a6{};
    if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) return {};  // URI zones list IPv4 and names only

    auto domain = registered_domain(text);
    if (!domain) return {};
    std::vector<std::string> names{*domain};
    std::string full = normalize_host(text);
    if (full != *domain) names.push_back(std::move(full));
    return names;
}

}  // namespace pmx::spam::dnsbl
