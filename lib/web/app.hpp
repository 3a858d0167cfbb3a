// The whole web application behind both ports: static pages and assets (share/web), sign-in
// and sign-out endpoints, and POST /rpc. Security headers on every response
// (Content-Security-Policy without inline script, X-Frame-Options DENY, nosniff, no-store on
// data). pmx-httpd calls handle() from its server threads.
//
// Routes:
//   GET  /                 admin realm: admin.html; user realm: user.html
//   GET  /assets/NAME      share/web/assets/NAME (js, css, svg)
//   GET  /login            the sign-in page; with ?token=T signs in by link (user realm) and redirects to /
//   POST /api/login        {"name","password"} → sets the session cookie, {"csrf","who":{...}}
//   POST /api/login-link   {"address"} (user realm) → mails a one-time link
//   GET  /api/session      {"csrf","who":{...}} of the live session, 401 without one (a page
//                          opened by a sign-in link learns its CSRF token here)
//   POST /api/logout       (CSRF) ends the session, clears the cookie
//   POST /rpc              JSON RPC (web/rpc.hpp)
//   GET  /health           "ok" (no session; for monitoring)
#pragma once

#include <filesystem>

#include "web/environment.hpp"
#include "web/http.hpp"

namespace pmx::web {

struct AppSettings {
    std::filesystem::path assets_dir;  // share/web (vendor dir in production, source tree in tests)
    std::string user_base_url;         // for login links: httpd.user_url, else https://HOST:user_port
};

Response handle(const Environment& env, const AppSettings& settings, const Request& request);

}  // namespace pmx::web
