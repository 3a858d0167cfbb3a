// Password sign-in (web/session.hpp) and who a signed-in name is: system accounts through PAM
// and their groups, addresses through their pmx password, the Groups tables and delegations.
// Every refusal of a credential reads the same, whether the account exists or not.
#include <fmt/format.h>

#include "store/database.hpp"
#include "util/text.hpp"
#include "web/groups_store.hpp"
#include "web/pam_login.hpp"
#include "web/password.hpp"
#include "web/rate_limit.hpp"
#include "web/session.hpp"
#include "web/session_store.hpp"

namespace pmx::web {

namespace {

constexpr const char* kBadCredentials = "Wrong name or password";
constexpr const char* kNotHere = "This account may not sign in to this interface";
constexpr const char* kTooMany = "Too many failed sign-ins: try again in a few minutes";
constexpr Rights kUserRights = static_cast<Rights>(Right::Quarantine) | static_cast<Rights>(Right::Lists);

LoginOutcome outcome(int status, std::string message) {
    LoginOutcome o;
    o.http_status = status;
    o.message = std::move(message);
    return o;
}

}  // namespace

Result<Principal> user_principal_in(store::Database& db, std::string_view address) {
    Principal p;
    p.kind = Principal::Kind::User;
    p.name = ascii_lower(address);
    p.scope.push_back({p.name, kUserRights});
    auto owners = delegated_to(db, p.name);
    if (!owners) return owners.error();
    for (auto& o : *owners)
        if (o != p.name) p.scope.push_back({std::move(o), kUserRights});
    return p;
}

Result<std::optional<Principal>> resolve_principal(store::Database& db, Realm realm, std::string_view name,
                                                   const std::string& admin_group) {
    const bool address = name.find('@') != std::string_view::npos;
    if (realm == Realm::User) {
        if (!address) return std::optional<Principal>();
        auto p = user_principal_in(db, name);
        if (!p) return p.error();
        return std::optional<Principal>(std::move(*p));
    }
    if (!address && system_account_in_group(name, admin_group)) {
        Principal p;
        p.kind = Principal::Kind::Admin;
        p.name = std::string(name);
        return std::optional<Principal>(std::move(p));
    }
    auto member = is_group_member(db, name);
    if (!member) return member.error();
    if (!*member) return std::optional<Principal>();
    auto scope = member_scope(db, name);
    if (!scope) return scope.error();
    Principal p;
    p.kind = Principal::Kind::GroupAdmin;
    p.name = std::string(name);
    p.scope = std::move(*scope);
    return std::optional<Principal>(std::move(p));
}

Result<Principal> user_principal(const Environment& env, std::string_view address) {
    auto a = normalize_address(address);
    if (!a) return a.error();
    auto db = env.open_database();
    if (!db) return db.error();
    return user_principal_in(*db, *a);
}

LoginOutcome login_with_password(const Environment& env, Realm realm, std::string_view name,
                                 std::string_view password, std::string_view client_ip) {
    std::string account(trim(name));
    const bool is_address = account.find('@') != std::string::npos;
    if (is_address) account = ascii_lower(account);
    if (account.size() > 320) account.resize(320);  // a key for the limiter, bounded

    const std::string ip_key = client_limit_key("ip", client_ip);
    const std::string account_key = "account:" + account;
    auto* limiter = env.limiter.get();
    if (limiter && (!limiter->allowed(ip_key) || !limiter->allowed(account_key))) return outcome(429, kTooMany);
    auto refuse = [&] {
        if (limiter) {
            limiter->failed(ip_key);
            limiter->failed(account_key);
        }
        return outcome(401, kBadCredentials);
    };
    if (account.empty() || password.empty() || password.size() > kMaxPasswordLength) return refuse();

    auto db = env.open_database();
    if (!db) return outcome(500, fmt::format("Sign-in is not available: {}", db.error().message));

    bool accepted = false;
    if (!is_address) {
        if (realm == Realm::Admin) {
            auto verdict = pam_check_password(env.config->string("httpd.pam_service"), account, password, client_ip);
            if (!verdict) return outcome(500, fmt::format("Sign-in is not available: {}", verdict.error().message));
            accepted = *verdict == PamVerdict::Accepted;
        } else {
            verify_password_dummy(password);  // end users sign in with their address
        }
    } else {
        auto address = normalize_address(account);
        std::optional<std::string> hash;
        if (address) {
            auto h = web_user_hash(*db, *address);
            if (!h) return outcome(500, fmt::format("Sign-in is not available: {}", h.error().message));
            hash = std::move(*h);
            account = *address;
        }
        if (hash && !hash->empty())
            accepted = verify_password(password, *hash);
        else
            verify_password_dummy(password);
    }
    if (!accepted) return refuse();
    if (limiter) limiter->succeeded(account_key);

    auto who = resolve_principal(*db, realm, account, env.config->string("httpd.admin_group"));
    if (!who) return outcome(500, fmt::format("Sign-in is not available: {}", who.error().message));
    if (!*who) return outcome(403, kNotHere);
    auto session =
        create_session(*db, session_settings(*env.config), realm, std::move(**who), client_ip, store::now_us());
    if (!session) return outcome(500, fmt::format("Sign-in is not available: {}", session.error().message));
    LoginOutcome o;
    o.session = std::move(*session);
    o.http_status = 200;
    o.message = "Signed in";
    return o;
}

}  // namespace pmx::web
