// groups.*, web_users.*, delegations.*: the Groups interface's accounts, on the admin interface,
// for administrators only. (user.set_password, an end user's own, is in rpc_user.cpp.)
// Names are checked by web/groups_store.hpp; a bad one is kInvalidParams with its reason.
#include <fmt/format.h>

#include <ctime>

#include "web/groups_store.hpp"
#include "web/password.hpp"
#include "web/rpc.hpp"
#include "web/rpc_params.hpp"

namespace pmx::web {

namespace {

std::variant<store::Database, RpcError> open(const Call& c) {
    auto db = c.env.open_database();
    if (!db) return failed(fmt::format("Failed to open the database: {}", db.error().message));
    return std::move(*db);
}

// "2026-11-25T15:00:00Z"
std::string iso_time(std::int64_t us) {
    std::time_t t = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

Json group_json(const Group& g) {
    Json items = Json::array();
    for (const auto& i : g.items) items.push_back({{"pattern", i.pattern}, {"rights", rights_names(i.rights)}});
    return Json{{"name", g.name}, {"members", g.members}, {"items", std::move(items)}};
}

RpcResult groups_list(const Call& c) {
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto groups = list_groups(std::get<store::Database>(opened));
    if (!groups) return failed(groups.error().message);
    Json out = Json::array();
    for (const auto& g : *groups) out.push_back(group_json(g));
    return out;
}

RpcResult groups_save(const Call& c) {
    Group g;
    if (auto e = take(string_param(c, "name"), g.name)) return *e;
    if (auto n = check_group_name(g.name); !n) return invalid_params(n.error().message);
    if (auto e = take(strings_param(c, "members", false, kMaxGroupEntries, 320), g.members)) return *e;
    auto it = c.params.find("items");
    if (it != c.params.end() && !it->is_null()) {
        if (!it->is_array()) return invalid_params("Parameter \"items\" must be a list of {\"pattern\",\"rights\"}");
        if (it->size() > kMaxGroupEntries)
            return invalid_params(fmt::format("Parameter \"items\": at most {} items", kMaxGroupEntries));
        std::size_t n = 0;
        for (const auto& item : *it) {
            ++n;
            if (!item.is_object() || !item.contains("pattern") || !item["pattern"].is_string() ||
                !item.contains("rights") || !item["rights"].is_array())
                return invalid_params(fmt::format("Item {}: must be {{\"pattern\":\"@example.org\",\"rights\":[..]}}", n));
            std::vector<std::string> names;
            for (const auto& r : item["rights"]) {
                if (!r.is_string()) return invalid_params(fmt::format("Item {}: rights must be names", n));
                names.push_back(r.get<std::string>());
            }
            auto rights = parse_rights(names);
            if (!rights)
                return invalid_params(fmt::format("Item {}: unknown right (known: quarantine, lists, reports, policy)", n));
            auto pattern = normalize_pattern(item["pattern"].get<std::string>());
            if (!pattern) return invalid_params(fmt::format("Item {}: {}", n, pattern.error().message));
            if (*rights == 0) return invalid_params(fmt::format("Item {} ({}): give it one or more rights", n, *pattern));
            g.items.push_back({*pattern, *rights});
        }
    }
    for (const auto& m : g.members)
        if (auto ok = normalize_member(m); !ok) return invalid_params(ok.error().message);
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    if (auto r = save_group(std::get<store::Database>(opened), g); !r) return failed(r.error().message);
    return Json::object();
}

RpcResult groups_delete(const Call& c) {
    std::string name;
    if (auto e = take(string_param(c, "name"), name)) return *e;
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto r = delete_group(std::get<store::Database>(opened), name);
    if (!r) return failed(r.error().message);
    if (!*r) return not_found(fmt::format("No group named \"{}\"", name));
    return Json::object();
}

RpcResult users_list(const Call& c) {
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto users = list_web_users(std::get<store::Database>(opened));
    if (!users) return failed(users.error().message);
    Json out = Json::array();
    for (const auto& u : *users)
        out.push_back({{"address", u.address}, {"has_password", u.has_password}, {"created", iso_time(u.created_us)},
                       {"created_us", u.created_us}, {"updated_us", u.updated_us}});
    return out;
}

RpcResult users_set_password(const Call& c) {
    std::string address, password;
    if (auto e = take(string_param(c, "address"), address)) return *e;
    if (auto e = take(string_param(c, "password"), password)) return *e;
    auto a = normalize_address(address);
    if (!a) return invalid_params(a.error().message);
    if (auto ok = check_password_rules(password); !ok) return invalid_params(ok.error().message);
    auto hash = hash_password(password);
    if (!hash) return failed(hash.error().message);
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto created = set_web_user(std::get<store::Database>(opened), *a, *hash);
    if (!created) return failed(created.error().message);
    return Json{{"address", *a}, {"created", *created}};
}

RpcResult users_delete(const Call& c) {
    std::string address;
    if (auto e = take(string_param(c, "address"), address)) return *e;
    auto a = normalize_address(address);
    if (!a) return invalid_params(a.error().message);
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto r = delete_web_user(std::get<store::Database>(opened), *a);
    if (!r) return failed(r.error().message);
    if (!*r) return not_found(fmt::format("No web user {}", *a));
    return Json::object();
}

RpcResult delegations_list(const Call& c) {
    std::string address;
    if (auto e = take(string_param(c, "address", false), address)) return *e;
    std::optional<std::string> filter;
    if (!address.empty()) {
        auto a = normalize_address(address);
        if (!a) return invalid_params(a.error().message);
        filter = *a;
    }
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto list = list_delegations(std::get<store::Database>(opened),
                                 filter ? std::optional<std::string_view>(*filter) : std::nullopt);
    if (!list) return failed(list.error().message);
    Json out = Json::array();
    for (const auto& d : *list)
        out.push_back({{"owner", d.owner}, {"delegate", d.delegate}, {"created", iso_time(d.created_us)}});
    return out;
}

std::variant<std::pair<std::string, std::string>, RpcError> owner_delegate(const Call& c) {
    std::string owner, delegate;
    if (auto e = take(string_param(c, "owner"), owner)) return *e;
    if (auto e = take(string_param(c, "delegate"), delegate)) return *e;
    auto o = normalize_address(owner);
    if (!o) return invalid_params(fmt::format("owner: {}", o.error().message));
    auto d = normalize_address(delegate);
    if (!d) return invalid_params(fmt::format("delegate: {}", d.error().message));
    if (*o == *d) return invalid_params(fmt::format("{} cannot be delegated to itself", *o));
    return std::make_pair(*o, *d);
}

RpcResult delegations_add(const Call& c) {
    auto od = owner_delegate(c);
    if (auto* e = std::get_if<RpcError>(&od)) return *e;
    const auto& [owner, delegate] = std::get<0>(od);
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto r = add_delegation(std::get<store::Database>(opened), owner, delegate);
    if (!r) return failed(r.error().message);
    return Json{{"added", *r}};
}

RpcResult delegations_remove(const Call& c) {
    auto od = owner_delegate(c);
    if (auto* e = std::get_if<RpcError>(&od)) return *e;
    const auto& [owner, delegate] = std::get<0>(od);
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto r = remove_delegation(std::get<store::Database>(opened), owner, delegate);
    if (!r) return failed(r.error().message);
    if (!*r) return not_found(fmt::format("{} is not delegated to {}", owner, delegate));
    return Json::object();
}

}  // namespace

void add_group_methods(MethodTable& t) {
    const Access admin{.admin_realm = true, .user_realm = false, .admin_only = true, .right = std::nullopt};
    t.push_back({"groups.list", "Groups with their members and items (patterns and rights)", admin, groups_list});
    t.push_back({"groups.save", "Create or replace a group: members, items {pattern, rights}", admin, groups_save});
    t.push_back({"groups.delete", "Delete a group", admin, groups_delete});
    t.push_back({"web_users.list", "End users with a web account (own password)", admin, users_list});
    t.push_back({"web_users.set_password", "Create an end user's web account or set its password", admin,
                 users_set_password});
    t.push_back({"web_users.delete", "Delete an end user's web account (and end its sessions)", admin, users_delete});
    t.push_back({"delegations.list", "Delegations (owner's mail shown to delegate), all or of one address", admin,
                 delegations_list});
    t.push_back({"delegations.add", "Let delegate see and manage owner's quarantine and lists", admin, delegations_add});
    t.push_back({"delegations.remove", "Remove a delegation", admin, delegations_remove});
}

}  // namespace pmx::web
