// Principal checks: every RPC handler asks may()/patterns_with() before it touches mail.
#include "web/principal.hpp"

#include "util/text.hpp"

namespace pmx::web {

namespace {
constexpr Right all_rights[] = {Right::Quarantine, Right::Lists, Right::Reports, Right::Policy};
}

std::string_view right_name(Right r) {
    switch (r) {
        case Right::Quarantine: return "quarantine";
        case Right::Lists: return "lists";
        case Right::Reports: return "reports";
        case Right::Policy: return "policy";
    }
    return "unknown";
}

std::optional<Right> parse_right(std::string_view name) {
    for (Right r : all_rights)
        if (right_name(r) == name) return r;
    return std::nullopt;
}

std::vector<std::string> rights_names(Rights rights) {
    std::vector<std::string> out;
    for (Right r : all_rights)
        if (rights & static_cast<Rights>(r)) out.emplace_back(right_name(r));
    return out;
}

std::optional<Rights> parse_rights(const std::vector<std::string>& names) {
    Rights out = 0;
    for (const auto& n : names) {
        auto r = parse_right(n);
        if (!r) return std::nullopt;
        out |= static_cast<Rights>(*r);
    }
    return out;
}

bool address_matches(std::string_view pattern, std::string_view address) {
    if (pattern.empty() || address.empty()) return false;
    if (pattern.front() == '@') {
        // The whole domain: the address's domain is exactly the pattern's (no subdomains).
        auto at = address.rfind('@');
        if (at == std::string_view::npos || at == 0) return false;
        return ascii_iequals(pattern.substr(1), address.substr(at + 1)) && pattern.size() > 1;
    }
    return ascii_iequals(pattern, address);
}

bool Principal::may(Right r, std::string_view address) const {
    if (is_admin()) return true;
    for (const auto& item : scope)
        if ((item.rights & static_cast<Rights>(r)) && address_matches(item.pattern, address)) return true;
    return false;
}

bool Principal::may_domain(Right r, std::string_view domain_pattern) const {
    if (is_admin()) return true;
    for (const auto& item : scope)
        if ((item.rights & static_cast<Rights>(r)) && item.pattern.size() > 1 && item.pattern.front() == '@' &&
            ascii_iequals(item.pattern, domain_pattern))
            return true;
    return false;
}

bool Principal::may_any(Right r) const {
    if (is_admin()) return true;
    for (const auto& item : scope)
        if (item.rights & static_cast<Rights>(r)) return true;
    return false;
}

std::vector<std::string> Principal::patterns_with(Right r) const {
    std::vector<std::string> out;
    if (is_admin()) return out;
    for (const auto& item : scope)
        if (item.rights & static_cast<Rights>(r)) out.push_back(item.pattern);
    return out;
}

std::string_view kind_name(Principal::Kind k) {
    switch (k) {
        case Principal::Kind::Admin: return "admin";
        case Principal::Kind::GroupAdmin: return "group_admin";
        case Principal::Kind::User: return "user";
    }
    return "user";
}

}  // namespace pmx::web
