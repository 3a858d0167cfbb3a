// The dnsbl.* keys of a config snapshot, with the zone entries and nameservers parsed.
#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "config/loader.hpp"
#include "spam/dnsbl/dnsbl.hpp"
#include "util/text.hpp"

namespace pmx::spam::dnsbl {

Result<std::string> normalize_nameserver(std::string_view text) {
    auto t = trim(text);
    std::string host;
    std::string_view port_text;
    if (!t.empty() && t.front() == '[') {
        auto close = t.find(']');
        if (close == std::string_view::npos) return Error{"missing ']' after the IPv6 address"};
        host = std::string(t.substr(1, close - 1));
        auto rest = t.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return Error{"expected :PORT after ']'"};
            port_text = rest.substr(1);
            if (port_text.empty()) return Error{"empty port"};
        }
    } else if (std::count(t.begin(), t.end(), ':') == 1) {
        auto colon = t.find(':');
        host = std::string(t.substr(0, colon));
        port_text = t.substr(colon + 1);
        if (port_text.empty()) return Error{"empty port"};
    } else {
        host = std::string(t);  // IPv4 or a bare IPv6 address
    }
    unsigned port = 53;
    if (!port_text.empty()) {
        auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
            return Error{fmt::format("bad port \"{}\" (1 to 65535)", port_text)};
    }
    in_addr a4{};
    if (inet_pton(AF_INET, host.c_str(), &a4) == 1) return fmt::format("{}:{}", host, port);
    in6_addr a6{};
    if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) return fmt::format("[{}]:{}", host, port);
    return Error{fmt::format("\"{}\" is not an IP address (host names are not resolved here)", host)};
}

Result<Settings> settings_from_config(const config::Snapshot& snapshot) {
    Settings s;
    std::string errors;
    auto problem = [&](std::string_view key, const std::string& entry, const std::string& what) {
        const auto& origin = snapshot.setting(key).origin;
        errors += fmt::format("{}{}: {}: entry \"{}\": {}", errors.empty() ? "" : "\n", origin.describe(), key, entry,
                              what);
    };

    s.enabled = snapshot.boolean("dnsbl.enabled");
    s.timeout = std::chrono::milliseconds(snapshot.integer("dnsbl.timeout_ms"));
    s.cache_ttl = std::chrono::seconds(snapshot.integer("dnsbl.cache_seconds"));
    s.cache_entries = static_cast<std::size_t>(snapshot.integer("dnsbl.cache_entries"));
    s.max_uri_hosts = static_cast<std::size_t>(snapshot.integer("dnsbl.max_uri_hosts"));

    for (const auto& entry : snapshot.strings("dnsbl.nameservers")) {
        auto ns = normalize_nameserver(entry);
        if (!ns) problem("dnsbl.nameservers", entry, ns.error().message);
        else s.nameservers.push_back(std::move(*ns));
    }
    auto zones = [&](std::string_view key, ZoneKind kind, std::vector<Zone>& out) {
        for (const auto& entry : snapshot.strings(key)) {
            auto z = parse_zone(entry, kind);
            if (!z) {
                problem(key, entry, z.error().message);
                continue;
            }
            for (const auto& other : out)
                if (other.name == z->name) problem(key, entry, fmt::format("zone {} is listed twice", z->name));
            out.push_back(std::move(*z));
        }
    };
    zones("dnsbl.ip_zones", ZoneKind::Ip, s.ip_zones);
    zones("dnsbl.uri_zones", ZoneKind::Uri, s.uri_zones);

    if (!errors.empty()) return Error{errors};
    return s;
}

}  // namespace pmx::spam::dnsbl
