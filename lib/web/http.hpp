// The HTTP request and response pmx-httpd's handlers see: plain values, no server library types,
// so routing, sessions and the RPC API are unit-testable without a socket.
// The server glue (daemons/httpd) fills a Request from libmicrohttpd and sends the Response back.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/text.hpp"

namespace pmx::web {

// Which interface a request came in on. The admin interface (Manager, Groups) and the end-user
// interface listen on separate ports, as PureMessage had; a session belongs to one of them.
enum class Realm { Admin, User };
std::string_view realm_name(Realm r);  // "admin" | "user"

struct Request {
    Realm realm = Realm::User;
    std::string method;                          // "GET", "POST", ...
    std::string path;                            // decoded, without the query: "/rpc"
    std::map<std::string, std::string> query;    // decoded query arguments
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;                            // at most httpd.max_request_bytes
    std::string client_ip;                       // "127.0.0.1", "::1"

    // "" when absent.
    std::string header(std::string_view lower_case_name) const;
    // The value of one cookie from the Cookie header.
    std::optional<std::string> cookie(std::string_view name) const;
};

struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;  // Content-Type and the rest
    std::string body;

    static Response json(int status, std::string body);
    static Response text(int status, std::string body);             // text/plain; charset=utf-8
    static Response html(int status, std::string body);             // text/html; charset=utf-8
    static Response redirect(std::string_view location);            // 303 See Other
    Response& with_header(std::string name, std::string value);
};

// html_escape() for the few server-made pages: lib/util/text.hpp.

// The session cookie of each realm; distinct names because cookies are shared across ports.
std::string_view session_cookie_name(Realm r);  // "pmx_admin_session" | "pmx_user_session"
// "NAME=VALUE; Path=/; Max-Age=N; HttpOnly; Secure; SameSite=Strict" (Max-Age=0 clears it).
std::string session_cookie(Realm r, std::string_view value, long max_age_seconds);

// The header every state-changing request carries with the session's CSRF token.
inline constexpr std::string_view kCsrfHeader = "x-pmx-csrf";

}  // namespace pmx::web
