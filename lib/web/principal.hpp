// Who is calling, and what they may touch. Every RPC method and page checks the caller's
// Principal; nothing reaches mail outside its scope.
//   Admin       a system account in httpd.admin_group (PAM): everything.
//   GroupAdmin  a member of one or more groups (Groups interface): the group's items
//               (domains or addresses), each with its own rights.
//   User        an end user (one mail address): their own address and those delegated to them,
//               with the rights quarantine and lists.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "web/http.hpp"

namespace pmx::web {

enum class Right : unsigned {
    Quarantine = 1,  // search, view, release, delete quarantined mail
    Lists = 2,       // allow/block lists of the addresses in scope
    Reports = 4,     // reports and the message log
    Policy = 8,      // view the policy and test messages against it
};
using Rights = unsigned;  // a set of Right bits
inline constexpr Rights kAllRights = 15;

std::string_view right_name(Right r);                    // "quarantine", "lists", "reports", "policy"
std::optional<Right> parse_right(std::string_view name);
std::vector<std::string> rights_names(Rights rights);    // in the order above
std::optional<Rights> parse_rights(const std::vector<std::string>& names);  // nullopt: an unknown name

// One thing in scope: "user@example.org" (one address) or "@example.org" (a whole domain).
// Patterns are stored lower case.
struct ScopeItem {
    std::string pattern;
    Rights rights = 0;
};

struct Principal {
    enum class Kind { Admin, GroupAdmin, User };
    Kind kind = Kind::User;
    std::string name;               // "alice" (system account) or "bob@example.org"
    std::vector<ScopeItem> scope;   // unused for Admin

    bool is_admin() const { return kind == Kind::Admin; }
    // Admin: always. Otherwise some scope item matches the address (case-insensitive) with r.
    bool may(Right r, std::string_view address) const;
    // Admin: always. Otherwise the scope holds the whole domain ("@example.org") with r.
    bool may_domain(Right r, std::string_view domain_pattern) const;
    // Admin: always. Otherwise some scope item carries r.
    bool may_any(Right r) const;
    // The items carrying r (for building search filters); empty for Admin (meaning: everything).
    std::vector<std::string> patterns_with(Right r) const;
};

std::string_view kind_name(Principal::Kind k);  // "admin" | "group_admin" | "user"

// Whether address (any case) matches pattern ("a@b" exactly, or "@b" for the domain b).
bool address_matches(std::string_view pattern, std::string_view address);

}  // namespace pmx::web
