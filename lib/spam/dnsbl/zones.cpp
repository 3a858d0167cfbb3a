// Zone entries of dnsbl.ip_zones / dnsbl.uri_zones: ZONE=MATCH:LABEL:SCORE[,...] (syntax in dnsbl.hpp).
#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "spam/dnsbl/dnsbl.hpp"
#include "util/text.hpp"

namespace pmx::spam::dnsbl {

namespace {

constexpr std::uint32_t loopback_net = 0x7f000000;          // 127.0.0.0/8
constexpr std::uint32_t error_codes_net = 0x7fffff00;       // 127.255.255.0/24

bool in_loopback(std::uint32_t a) { return (a & 0xff000000) == loopback_net; }

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
    std::string s(text);
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return ntohl(a.s_addr);
}

// A DNS name: labels of letters, digits, '-' and '_' (some zones use it), 1 to 63 bytes each.
bool valid_zone_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;  // room for 72 bytes of reversed IPv6
    std::size_t label = 0;
    for (char c : name) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
    }
    return label > 0;
}

Result<Match> parse_match(std::string_view part, ZoneKind kind) {
    // MATCH:LABEL:SCORE, split at the last two colons (MATCH holds none: IPv4 only).
    auto c2 = part.rfind(':');
    if (c2 == std::string_view::npos)
        return Error{fmt::format("\"{}\": expected MATCH:LABEL:SCORE, e.g. 127.0.0.2:SBL:3.0", part)};
    auto c1 = part.rfind(':', c2 == 0 ? 0 : c2 - 1);
    if (c1 == std::string_view::npos || c1 == c2)
        return Error{fmt::format("\"{}\": expected MATCH:LABEL:SCORE (LABEL or SCORE is missing), e.g. 127.0.0.2:SBL:3.0",
                                 part)};
    auto what = trim(part.substr(0, c1));
    auto label = trim(part.substr(c1 + 1, c2 - c1 - 1));
    auto score_text = trim(part.substr(c2 + 1));

    Match m;
    if (what == "any") {
        m.kind = Match::Kind::Any;
    } else if (!what.empty() && what.front() == '&') {
        auto digits = what.substr(1);
        int base = 10;
        if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
            digits.remove_prefix(2);
            base = 16;
        }
        unsigned value = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
        if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 || value > 255)
            return Error{fmt::format("\"{}\": bad bitmask \"{}\" (expected &1 to &255, or &0x01 to &0xff)", part, what)};
        m.kind = Match::Kind::Mask;
        m.mask = value;
    } else {
        auto dash = what.find('-');
        auto low = parse_ipv4(what.substr(0, dash));
        auto high = dash == std::string_view::npos ? low : parse_ipv4(what.substr(dash + 1));
        if (!low || !high)
            return Error{fmt::format("\"{}\": bad answer \"{}\" (expected an address like 127.0.0.2, a range like "
                                     "127.0.0.4-127.0.0.7, a bitmask like &0x04, or any)",
                                     part, what)};
        if (*low > *high) return Error{fmt::format("\"{}\": range \"{}\" ends before it starts", part, what)};
        if (!in_loopback(*low) || !in_loopback(*high))
            return Error{fmt::format("\"{}\": answer \"{}\" is outside 127.0.0.0/8, where blocklists answer", part, what)};
        m.kind = dash == std::string_view::npos ? Match::Kind::Exact : Match::Kind::Range;
        m.low = *low;
        m.high = *high;
    }

    if (label.empty()) return Error{fmt::format("\"{}\": LABEL is empty", part)};
    if (label.size() > 48) return Error{fmt::format("\"{}\": LABEL is longer than 48 characters", part)};
    for (char c : label) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok)
            return Error{fmt::format("\"{}\": LABEL \"{}\" may hold only letters, digits and _", part, label)};
    }
    for (char c : label) m.label += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    m.rule = (kind == ZoneKind::Ip ? "RCVD_IN_" : "URIBL_") + m.label;

    // from_chars for double: no locale, no leading '+'.
    if (!score_text.empty() && score_text.front() == '+') score_text.remove_prefix(1);
    auto [end, ec] = std::from_chars(score_text.data(), score_text.data() + score_text.size(), m.score);
    if (score_text.empty() || ec != std::errc{} || end != score_text.data() + score_text.size() ||
        !std::isfinite(m.score) || std::fabs(m.score) > 1000)
        return Error{fmt::format("\"{}\": SCORE \"{}\" is not a number from -1000 to 1000", part, score_text)};
    return m;
}

}  // namespace

bool Match::matches(std::uint32_t answer) const {
    if (!in_loopback(answer)) return false;
    switch (kind) {
        case Kind::Exact:
        case Kind::Range: return answer >= low && answer <= high;
        case Kind::Mask: return (answer & 0xffffff00) == loopback_net && (answer & mask) != 0;
        case Kind::Any: return (answer & 0xffffff00) != error_codes_net;
    }
    return false;
}

Result<Zone> parse_zone(std::string_view entry, ZoneKind kind) {
    auto eq = entry.find('=');
    if (eq == std::string_view::npos)
        return Error{"expected ZONE=MATCH:LABEL:SCORE[,MATCH:LABEL:SCORE...], e.g. zen.example=127.0.0.2:SBL:3.0"};
    Zone zone;
    zone.kind = kind;
    zone.name = ascii_lower(trim(entry.substr(0, eq)));
    if (!zone.name.empty() && zone.name.back() == '.') zone.name.pop_back();
    if (!valid_zone_name(zone.name))
        return Error{fmt::format("zone \"{}\" is not a DNS name", trim(entry.substr(0, eq)))};

    auto rest = entry.substr(eq + 1);
    if (trim(rest).empty()) return Error{fmt::format("zone {}: no MATCH:LABEL:SCORE after '='", zone.name)};
    while (true) {
        auto comma = rest.find(',');
        auto part = trim(rest.substr(0, comma));
        if (part.empty()) return Error{fmt::format("zone {}: empty item between commas", zone.name)};
        auto m = parse_match(part, kind);
        if (!m) return Error{fmt::format("zone {}: {}", zone.name, m.error().message)};
        zone.matches.push_back(std::move(*m));
        if (comma == std::string_view::npos) break;
        rest = rest.substr(comma + 1);
    }
    if (zone.matches.size() > 64) return Error{fmt::format("zone {}: more than 64 items", zone.name)};
    return zone;
}

}  // namespace pmx::spam::dnsbl
