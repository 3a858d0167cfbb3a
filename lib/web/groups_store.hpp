// The tables of the Groups interface and of end users (schema v7): groups with their members
// and items, end users' own passwords, delegations. SQL only; callers check who may call.
// Every name is validated here, so the CLI, the RPC methods and the tests share one set of rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"
#include "web/principal.hpp"

namespace pmx::web {

// "User@Example.org" → "user@example.org". Error (naming the text) when it is not one address.
Result<std::string> normalize_address(std::string_view address);
// A scope pattern: an address, or "@domain" for a whole domain; lower case.
Result<std::string> normalize_pattern(std::string_view pattern);
// A group member: a system account name (as is) or an address (lower case).
Result<std::string> normalize_member(std::string_view member);
// Group names: 1-64 of [A-Za-z0-9._ -], not starting or ending with a blank.
Result<std::string> check_group_name(std::string_view name);

struct Group {
    std::string name;
    std::vector<std::string> members;  // sorted
    std::vector<ScopeItem> items;      // sorted by pattern
};

// At most this many members and items per group (what one request may carry).
inline constexpr std::size_t kMaxGroupEntries = 10000;

Result<std::vector<Group>> list_groups(store::Database& db);
Result<std::optional<Group>> find_group(store::Database& db, std::string_view name);
// Creates or replaces the group (members and items normalized and checked; an item without
// rights is an error; duplicates merge). One transaction.
Result<void> save_group(store::Database& db, const Group& group);
// false: there was no such group.
Result<bool> delete_group(store::Database& db, std::string_view name);

// Whether the member (account name or normalized address) belongs to any group, and the items
// of all its groups (rights of the same pattern in several groups add up).
Result<bool> is_group_member(store::Database& db, std::string_view member);
Result<std::vector<ScopeItem>> member_scope(store::Database& db, std::string_view member);

struct WebUser {
    std::string address;
    bool has_password = false;
    std::int64_t created_us = 0;
    std::int64_t updated_us = 0;
};

Result<std::vector<WebUser>> list_web_users(store::Database& db);
// The password hash of a web user: nullopt when there is no such user, "" when it has none.
Result<std::optional<std::string>> web_user_hash(store::Database& db, std::string_view address);
// Creates the user or replaces its hash (hash "" removes the password, keeping the user).
// Returns true when the user was created.
Result<bool> set_web_user(store::Database& db, std::string_view address, std::string_view password_hash);
// Also ends the user's sessions and unused sign-in links. false: no such user.
Result<bool> delete_web_user(store::Database& db, std::string_view address);

struct Delegation {
    std::string owner;
    std::string delegate;
    std::int64_t created_us = 0;
};

// All delegations, or those where address is the owner or the delegate.
Result<std::vector<Delegation>> list_delegations(store::Database& db, std::optional<std::string_view> address = {});
// false: it existed already / did not exist.
Result<bool> add_delegation(store::Database& db, std::string_view owner, std::string_view delegate);
Result<bool> remove_delegation(store::Database& db, std::string_view owner, std::string_view delegate);
// The owners whose mail is delegated to this address.
Result<std::vector<std::string>> delegated_to(store::Database& db, std::string_view delegate);

}  // namespace pmx::web
