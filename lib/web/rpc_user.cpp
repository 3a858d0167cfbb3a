// user.settings|set_digest|set_password: an end user's own settings, on the end-user interface
// only. The address is always the session's own (never a parameter), so nobody can change
// another's digest opt-out or password through these.
#include <fmt/format.h>

#include "store/digest_store.hpp"
#include "web/groups_store.hpp"
#include "web/password.hpp"
#include "web/rate_limit.hpp"
#include "web/rpc.hpp"
#include "web/rpc_params.hpp"

namespace pmx::web {

namespace {

std::variant<store::Database, RpcError> open(const Call& c) {
    auto db = c.env.open_database();
    if (!db) return failed(fmt::format("Failed to open the database: {}", db.error().message));
    return std::move(*db);
}

RpcResult settings(const Call& c) {
    const auto& who = c.who();
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& db = std::get<store::Database>(opened);
    // Their own address first, then the addresses delegated to them (the session's scope).
    Json addresses = Json::array({who.name});
    for (const auto& item : who.scope)
        if (!item.pattern.empty() && item.pattern != who.name && item.pattern.front() != '@') addresses.push_back(item.pattern);
    auto state = store::digest_recipient_state(db, who.name);
    if (!state) return failed(state.error().message);
    auto hash = web_user_hash(db, who.name);
    if (!hash) return failed(hash.error().message);
    return Json{{"address", who.name},
                {"addresses", std::move(addresses)},
                {"digest_opt_out", state->has_value() && (*state)->opted_out},
                {"has_password", hash->has_value() && !(*hash)->empty()}};
}

RpcResult set_digest(const Call& c) {
    std::optional<bool> opt_out;
    if (auto e = take(bool_param(c, "opt_out"), opt_out)) return *e;
    if (!opt_out) return invalid_params("Missing parameter \"opt_out\" (true or false)");
    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto r = store::digest_set_opt_out(std::get<store::Database>(opened), c.who().name, *opt_out, store::now_us());
    if (!r) return failed(r.error().message);
    return Json{{"digest_opt_out", *opt_out}};
}

// A stolen session must not turn into a way to guess the current password: the same limits
// as a sign-in of that account.
RpcResult set_password(const Call& c) {
    const auto& address = c.who().name;
    std::string current, wanted;
    if (auto e = take(string_param(c, "current", false), current)) return *e;
    if (auto e = take(string_param(c, "new"), wanted)) return *e;
    if (auto ok = check_password_rules(wanted); !ok) return invalid_params(ok.error().message);

    auto opened = open(c);
    if (auto* e = std::get_if<RpcError>(&opened)) return *e;
    auto& db = std::get<store::Database>(opened);
    auto hash = web_user_hash(db, address);
    if (!hash) return failed(hash.error().message);
    if (hash->has_value() && !(*hash)->empty()) {  // signed in by link without a password: nothing to confirm
        const std::string key = "account:" + address;
        if (c.env.limiter && !c.env.limiter->allowed(key))
            return forbidden("Too many wrong passwords: try again later");
        if (current.empty() || !verify_password(current, **hash)) {
            if (c.env.limiter) c.env.limiter->failed(key);
            return forbidden("The current password is wrong");
        }
        if (c.env.limiter) c.env.limiter->succeeded(key);
    }
    auto new_hash = hash_password(wanted);
    if (!new_hash) return failed(new_hash.error().message);
    if (auto r = set_web_user(db, address, *new_hash); !r) return failed(r.error().message);
    return Json::object();
}

}  // namespace

void add_user_methods(MethodTable& t) {
    const Access user{.admin_realm = false, .user_realm = true, .admin_only = false, .right = std::nullopt};
    t.push_back({"user.settings", "Your address, delegated addresses, digest opt-out and whether you have a password",
                 user, settings});
    t.push_back({"user.set_digest", "Opt out of (or back into) the quarantine digest mail", user, set_digest});
    t.push_back({"user.set_password", "Set or change your own password (the current one when you have one)", user,
                 set_password});
}

}  // namespace pmx::web
