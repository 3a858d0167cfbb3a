// lists.show|add|remove: allow and block lists through the web (lib/store/lists_store.hpp, the
// same lists `pmx list` edits and the policy reads). The global lists ("" owner) are for
// Admins; anyone with the right lists may edit the lists of an address in their scope (an end
// user: their own address and those delegated to them; a group admin: the addresses of their
// domains, and the lists of a whole domain, "@example.org", which the policy checks for every
// recipient there after the recipient's own).
#include <fmt/format.h>

#include "store/lists_store.hpp"
#include "web/rpc.hpp"
#include "web/rpc_params.hpp"

namespace pmx::web {

namespace {

constexpr std::size_t max_entries = 500;  // per add or remove call

// The owner the call names (or the caller's default), checked against the caller's scope.
std::variant<std::string, RpcError> owner_of(const Call& c) {
    const auto& who = c.who();
    auto it = c.params.find("owner");
    std::string owner;
    if (it == c.params.end() || it->is_null()) {
        if (who.is_admin()) return std::string();
        if (who.kind == Principal::Kind::User) owner = who.name;
        else return invalid_params("Name the owner: an address in your scope (\"owner\")");
    } else {
        if (auto e = take(string_param(c, "owner"), owner)) return *e;
    }
    if (owner.size() > 320) return invalid_params("Parameter \"owner\" is not an address");
    if (owner.empty()) {
        if (!who.is_admin()) return forbidden("The global lists are for administrators only");
        return std::string();
    }
    auto normalized = store::normalize_owner(owner);
    if (!normalized) return invalid_params(normalized.error().message);
    // A domain's lists ("@example.org") need that whole domain in scope, not one address at it.
    const bool in_scope = normalized->front() == '@' ? who.may_domain(Right::Lists, *normalized)
                                                     : who.may(Right::Lists, *normalized);
    if (!in_scope) return forbidden(fmt::format("The lists of {} are not in your scope", *normalized));
    return std::move(*normalized);
}

std::variant<store::ListKind, RpcError> kind_of(const Call& c) {
    std::string list;
    if (auto e = take(string_param(c, "list"), list)) return *e;
    auto kind = store::parse_kind(list);
    if (!kind) return invalid_params("Parameter \"list\" must be \"allow\" or \"block\"");
    return *kind;
}

Json entry_json(const store::ListEntry& e) {
    return Json{{"pattern", e.pattern},
                {"type", store::type_name(e.type)},
                {"meaning", store::describe_pattern(e.type, e.pattern)},
                {"comment", e.comment},
                {"added_us", e.added_us}};
}

std::variant<store::Database, RpcError> open(const Call& c) {
    auto db = c.env.open_database();
    if (!db) return failed(fmt::format("Failed to open the database: {}", db.error().message));
    return std::move(*db);
}

RpcResult show(const Call& c) {
    std::string owner;
    if (auto e = take(owner_of(c), owner)) return *e;
    auto db = open(c);
    if (auto* e = std::get_if<RpcError>(&db)) return *e;
    auto entries = store::list_entries(std::get<store::Database>(db), {.owner = owner});
    if (!entries) return failed(entries.error().message);
    Json allow = Json::array(), block = Json::array();
    for (const auto& e : *entries) (e.kind == store::ListKind::Allow ? allow : block).push_back(entry_json(e));
    return Json{{"owner", owner}, {"allow", std::move(allow)}, {"block", std::move(block)}};
}

RpcResult add(const Call& c) {
    std::string owner;
    store::ListKind kind{};
    std::vector<std::string> texts;
    if (auto e = take(owner_of(c), owner)) return *e;
    if (auto e = take(kind_of(c), kind)) return *e;
    if (auto e = take(strings_param(c, "entries", true, max_entries, 1000), texts)) return *e;

    // Every entry checked before any is added: a typo adds nothing, and says which one.
    std::vector<store::ListEntry> entries;
    for (const auto& t : texts) {
        auto type = store::infer_type(t).type;
        auto pattern = store::normalize_pattern(type, t);
        if (!pattern) return invalid_params(pattern.error().message);
        entries.push_back({.kind = kind, .owner = owner, .type = type, .pattern = *pattern,
                           .comment = fmt::format("added by web:{}", c.who().name)});
    }
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& db = std::get<store::Database>(opened);
    auto txn = db.transaction();
    if (!txn) return failed(txn.error().message);
    int added = 0;
    for (auto& e : entries) {
        auto r = store::add_list_entry(db, std::move(e));
        if (!r) return failed(r.error().message);  // the transaction rolls back
        added += r->has_value() ? 1 : 0;
    }
    if (auto r = txn->commit(); !r) return failed(r.error().message);
    return Json{{"added", added}, {"already_listed", static_cast<int>(entries.size()) - added}};
}

RpcResult remove(const Call& c) {
    std::string owner;
    store::ListKind kind{};
    std::vector<std::string> texts;
    if (auto e = take(owner_of(c), owner)) return *e;
    if (auto e = take(kind_of(c), kind)) return *e;
    if (auto e = take(strings_param(c, "entries", true, max_entries, 1000), texts)) return *e;
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& db = std::get<store::Database>(opened);
    auto txn = db.transaction();
    if (!txn) return failed(txn.error().message);
    int removed = 0;
    std::vector<std::string> missing;
    for (const auto& t : texts) {
        auto r = store::remove_list_entry(db, kind, owner, t);
        if (!r) {  // rolls back
            const auto& why = r.error().message;
            return why.find("both a sender and a host") != std::string::npos ? invalid_params(why) : failed(why);
        }
        if (r->has_value()) ++removed;
        else missing.push_back(t);
    }
    if (auto r = txn->commit(); !r) return failed(r.error().message);
    return Json{{"removed", removed}, {"not_listed", missing}};
}

}  // namespace

void add_lists_methods(MethodTable& t) {
    const Access access{.admin_realm = true, .user_realm = true, .admin_only = false, .right = Right::Lists};
    t.push_back({"lists.show", "The allow and block lists of an address in scope (Admin: also the global ones)", access,
                 show});
    t.push_back({"lists.add", "Add sender or host patterns to an allow or block list", access, add});
    t.push_back({"lists.remove", "Remove patterns from an allow or block list", access, remove});
}

}  // namespace pmx::web
