// Sessions and sign-in (web/session_store.cpp, web/auth.cpp).
// A session is a random id (the cookie, HttpOnly/Secure/SameSite=Strict), a CSRF token every
// state-changing request must echo in the X-PMX-CSRF header, the Principal, and an expiry
// (idle timeout httpd.session_idle_seconds, absolute httpd.session_max_seconds). Sessions live in
// the database (schema v7), so a restart or a second node keeps them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "web/environment.hpp"
#include "web/http.hpp"
#include "web/principal.hpp"

namespace pmx::web {

struct Session {
    std::string id;        // 256 random bits, base64url; only its SHA-256 is stored
    std::string csrf;      // 256 random bits, base64url
    Realm realm = Realm::User;
    Principal who;
    std::int64_t expires_us = 0;
};

struct LoginOutcome {
    std::optional<Session> session;  // set on success
    int http_status = 200;           // 401 bad credentials, 403 not allowed here, 429 rate limited, 500
    std::string message;             // for the page: never says whether the account exists
};

// Password sign-in. Admin realm: a name without '@' is a system account checked with PAM
// (service httpd.pam_service); members of httpd.admin_group become Admin, members of a pmx
// group GroupAdmin, anyone else is refused. A mail address with its pmx password becomes
// GroupAdmin when it is a group member. User realm: a mail address and its pmx password.
// Rate limited per client address and per account (httpd.login_*).
LoginOutcome login_with_password(const Environment& env, Realm realm, std::string_view name,
                                 std::string_view password, std::string_view client_ip);

// Sign-in by link (User realm): a one-time token mailed by request_login_link (used once,
// expires after httpd.login_link_seconds) or the signed token of a digest link (lib/digest).
LoginOutcome login_with_token(const Environment& env, std::string_view token, std::string_view client_ip);

// Mails a one-time sign-in link to address through pmx-queued (PureMessage's default login).
// The reply never tells whether the address is known; rate limited like a login.
// base_url: the user interface's address for the link ("https://mail.example.org:8443").
LoginOutcome request_login_link(const Environment& env, std::string_view address, std::string_view base_url,
                                std::string_view client_ip);

// The live session with this cookie value in this realm (refreshing its idle expiry), or nullopt.
// The Principal is rebuilt from the groups and delegations as they are now.
Result<std::optional<Session>> find_session(const Environment& env, Realm realm, std::string_view cookie_value);

Result<void> end_session(const Environment& env, std::string_view cookie_value);

// The Principal of an end user: their address plus the addresses delegated to them.
Result<Principal> user_principal(const Environment& env, std::string_view address);

}  // namespace pmx::web
