// The session table behind web/session.hpp, for auth.cpp, login_link.cpp, `pmx web session`
// and the tests: the functions take the database and the time, so expiry is testable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "store/database.hpp"
#include "util/result.hpp"
#include "web/http.hpp"
#include "web/principal.hpp"
#include "web/session.hpp"

namespace pmx::web {

struct SessionSettings {
    std::int64_t idle_us = 1800LL * 1000000;       // httpd.session_idle_seconds
    std::int64_t max_us = 12LL * 3600 * 1000000;   // httpd.session_max_seconds
    std::string admin_group = "pmx-admin";         // httpd.admin_group
};
SessionSettings session_settings(const config::Snapshot& snapshot);

// Hex SHA-256: how session ids and sign-in tokens are stored (a stolen table opens nothing).
std::string secret_hash(std::string_view secret);
// 256 random bits, base64url (43 characters).
Result<std::string> random_secret();

// The rate limiter's key for a client address: "PREFIX:192.0.2.7" for IPv4, the /64 for IPv6
// ("PREFIX:2001:db8:1:2::/64"), since one IPv6 host usually has a whole /64 to rotate through.
std::string client_limit_key(std::string_view prefix, std::string_view client_ip);

// Who name is now in realm: nullopt when no longer allowed there. Admin realm: a system account
// in admin_group → Admin, else (account or address) a group member → GroupAdmin. User realm:
// an address → User (with its delegations).
Result<std::optional<Principal>> resolve_principal(store::Database& db, Realm realm, std::string_view name,
                                                   const std::string& admin_group);
Result<Principal> user_principal_in(store::Database& db, std::string_view address);

// A new session for who (expired sessions are purged on the way; a principal keeps at most
// kMaxSessionsPerPrincipal per realm, the least recently used go first).
inline constexpr int kMaxSessionsPerPrincipal = 32;
Result<Session> create_session(store::Database& db, const SessionSettings& settings, Realm realm, Principal who,
                               std::string_view client_ip, std::int64_t now_us);
// The live session of this cookie in this realm, its idle time restarted; its Principal resolved now.
Result<std::optional<Session>> find_session_in(store::Database& db, const SessionSettings& settings, Realm realm,
                                               std::string_view cookie_value, std::int64_t now_us);
// false: no such session.
Result<bool> end_session_in(store::Database& db, std::string_view cookie_value);

struct SessionInfo {
    std::string handle;  // the first 16 hex digits of the stored hash: names a session for revoke
    Realm realm = Realm::User;
    std::string principal;
    std::string kind;    // "admin" | "group_admin" | "user" (at sign-in)
    std::string client_ip;
    std::int64_t created_us = 0;
    std::int64_t last_used_us = 0;
    std::int64_t expires_us = 0;  // the earlier of the idle and the absolute end
};
// Live sessions, most recently used first.
Result<std::vector<SessionInfo>> list_sessions(store::Database& db, const SessionSettings& settings, std::int64_t now_us);
// Ends the sessions whose handle starts with handle_prefix (at least 8 hex digits), or all of
// principal's. Returns how many ended.
Result<std::int64_t> revoke_session(store::Database& db, std::string_view handle_prefix);
Result<std::int64_t> revoke_sessions_of(store::Database& db, std::string_view principal);
Result<std::int64_t> revoke_all_sessions(store::Database& db);
// Deletes ended sessions and used or expired sign-in tokens.
Result<void> purge_expired(store::Database& db, const SessionSettings& settings, std::int64_t now_us);

}  // namespace pmx::web
