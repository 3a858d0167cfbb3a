#include "web/app.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "util/text.hpp"
#include "web/principal.hpp"
#include "web/rpc.hpp"
#include "web/security_headers.hpp"
#include "web/session.hpp"
#include "web/static_files.hpp"

namespace pmx::web {

namespace {

using nlohmann::json;

constexpr std::string_view kAdminPage = "admin.html";
constexpr std::string_view kUserPage = "user.html";
constexpr std::string_view kLoginPage = "login.html";
constexpr std::string_view kAssetsPrefix = "/assets/";
// Sign-in fields are short; anything longer is not a name or password anyone types.
constexpr std::size_t kMaxNameBytes = 320;
constexpr std::size_t kMaxPasswordBytes = 4096;

Response json_error(int status, std::string_view message) {
    return Response::json(status, json{{"error", message}}.dump());
}

Response not_found() { return Response::text(404, "Not found\n"); }

Response method_not_allowed(std::string_view allow) {
    return Response::text(405, "Method not allowed\n").with_header("Allow", std::string(allow));
}

bool is_get(const Request& r) { return r.method == "GET" || r.method == "HEAD"; }

// Constant time: the CSRF token must not leak through how fast a wrong one is refused.
bool same_secret(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
}

// "host:443" and "host" are the same origin over https.
std::string_view without_default_port(std::string_view host) {
    if (host.ends_with(":443")) host.remove_suffix(4);
    return host;
}

// A browser names the page that sent a POST in Origin: it must be one of our own pages (same
// scheme, host and port as the request's Host). No Origin (curl, scripts): allowed, the CSRF
// token and SameSite=Strict cookie protect what needs a session.
bool origin_allowed(const Request& r) {
    auto origin = r.header("origin");
    if (origin.empty()) return true;
    constexpr std::string_view kScheme = "https://";
    if (!origin.starts_with(kScheme)) return false;  // "null", http://, other schemes
    auto host = r.header("host");
    if (host.empty()) return false;
    return ascii_iequals(without_default_port(std::string_view(origin).substr(kScheme.size())), without_default_port(host));
}

Response serve_file(const AppSettings& settings, std::string_view name) {
    auto file = read_static_file(settings.assets_dir, name);
    if (!file) return Response::text(500, "Internal error\n");
    if (!*file) return not_found();
    Response r;
    r.status = 200;
    r.headers.emplace_back("Content-Type", (*file)->content_type);
    r.body = std::move((*file)->body);
    return r;
}

std::string_view realm_page(Realm realm) { return realm == Realm::Admin ? kAdminPage : kUserPage; }

json who_json(const Session& s) {
    const Principal& p = s.who;
    Rights rights = 0;
    json scope = json::array();
    if (p.is_admin()) {
        rights = kAllRights;
    } else {
        for (const auto& item : p.scope) {
            rights |= item.rights;
            scope.push_back({{"pattern", item.pattern}, {"rights", rights_names(item.rights)}});
        }
    }
    return {{"name", p.name},
            {"kind", kind_name(p.kind)},
            {"realm", realm_name(s.realm)},
            {"rights", rights_names(rights)},
            {"scope", std::move(scope)}};
}

long cookie_max_age(const Environment& env) { return static_cast<long>(env.config->integer("httpd.session_max_seconds")); }

// The JSON object of a sign-in request body, or nullopt (400).
std::optional<json> body_object(const Request& r) {
    json j = json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    return j;
}

std::optional<std::string> string_field(const json& j, const char* name, std::size_t max_bytes) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return std::nullopt;
    auto s = it->get<std::string>();
    if (s.size() > max_bytes) return std::nullopt;
    return s;
}

Response signed_in(const Environment& env, const Session& session) {
    json body = {{"csrf", session.csrf}, {"who", who_json(session)}};
    return Response::json(200, body.dump())
        .with_header("Set-Cookie", session_cookie(session.realm, session.id, cookie_max_age(env)));
}

Response api_login(const Environment& env, const Request& r) {
    auto j = body_object(r);
    if (!j) return json_error(400, "The body must be a JSON object {\"name\", \"password\"}");
    auto name = string_field(*j, "name", kMaxNameBytes);
    auto password = string_field(*j, "password", kMaxPasswordBytes);
    if (!name || !password || name->empty()) return json_error(400, "name and password are required strings");
    auto outcome = login_with_password(env, r.realm, *name, *password, r.client_ip);
    if (outcome.session) return signed_in(env, *outcome.session);
    return json_error(outcome.http_status == 200 ? 401 : outcome.http_status,
                      outcome.message.empty() ? "Sign-in failed" : outcome.message);
}

Response api_login_link(const Environment& env, const AppSettings& settings, const Request& r) {
    if (r.realm != Realm::User) return not_found();
    auto j = body_object(r);
    if (!j) return json_error(400, "The body must be a JSON object {\"address\"}");
    auto address = string_field(*j, "address", kMaxNameBytes);
    if (!address || address->empty()) return json_error(400, "address is a required string");
    auto outcome = request_login_link(env, *address, settings.user_base_url, r.client_ip);
    if (outcome.http_status != 200) return json_error(outcome.http_status, outcome.message);
    return Response::json(200, json{{"message", outcome.message}}.dump());
}

Response api_logout(const Environment& env, const Request& r) {
    Response cleared = Response::json(200, "{}");
    cleared.with_header("Set-Cookie", session_cookie(r.realm, "", 0));
    auto cookie = r.cookie(session_cookie_name(r.realm));
    if (!cookie || cookie->empty()) return cleared;  // nothing to end
    auto session = find_session(env, r.realm, *cookie);
    if (!session) return json_error(500, "Internal error");
    if (!*session) return cleared;  // expired already
    if (!same_secret(r.header(kCsrfHeader), (*session)->csrf)) return json_error(403, "Missing or wrong CSRF token");
    if (auto e = end_session(env, *cookie); !e) return json_error(500, "Internal error");
    return cleared;
}

Response login_page(const Environment& env, const AppSettings& settings, const Request& r) {
    auto token = r.query.find("token");
    // HEAD never signs in: link checkers in mail systems probe links, and a one-time token is
    // for the person who clicks.
    if (token == r.query.end() || r.method == "HEAD") {
        Response page = serve_file(settings, kLoginPage);
        return page.status == 404 ? serve_file(settings, realm_page(r.realm)) : page;
    }
    if (r.realm != Realm::User) return not_found();
    auto outcome = login_with_token(env, token->second, r.client_ip);
    if (outcome.session) {
        return Response::redirect("/").with_header(
            "Set-Cookie", session_cookie(outcome.session->realm, outcome.session->id, cookie_max_age(env)));
    }
    std::string message = outcome.message.empty() ? "This sign-in link is not valid (any more)." : outcome.message;
    return Response::html(outcome.http_status == 200 ? 401 : outcome.http_status,
                          "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title>"
                          "</head><body><h1>Sign-in failed</h1><p>" +
                              html_escape(message) + "</p><p><a href=\"/\">Sign in</a></p></body></html>\n");
}

// GET /api/session: the signed-in caller and the session's CSRF token, so a page opened after a
// sign-in link (or in a new tab) learns the token. Safe as a GET: it changes nothing, the cookie is
// SameSite=Strict, and without CORS no other site can read the answer.
Response api_session(const Environment& env, const Request& r) {
    auto cookie = r.cookie(session_cookie_name(r.realm));
    if (!cookie || cookie->empty()) return json_error(401, "Not signed in");
    auto found = find_session(env, r.realm, *cookie);
    if (!found) return json_error(500, "Internal error");
    if (!*found) return json_error(401, "Not signed in");
    return Response::json(200, json{{"csrf", (*found)->csrf}, {"who", who_json(**found)}}.dump());
}

Response rpc(const Environment& env, const Request& r) {
    std::optional<Session> session;
    if (auto cookie = r.cookie(session_cookie_name(r.realm)); cookie && !cookie->empty()) {
        auto found = find_session(env, r.realm, *cookie);
        if (!found) return json_error(500, "Internal error");
        session = std::move(*found);
    }
    return handle_rpc(env, r, session);
}

Response route(const Environment& env, const AppSettings& settings, const Request& r) {
    const std::string& path = r.path;
    const bool post_route = path == "/rpc" || path == "/api/login" || path == "/api/login-link" || path == "/api/logout";
    if (post_route) {
        if (r.method != "POST") return method_not_allowed("POST");
        if (!origin_allowed(r)) return json_error(403, "Cross-origin request refused");
        if (r.body.size() > static_cast<std::size_t>(env.config->integer("httpd.max_request_bytes")))
            return json_error(413, "Request body too large");
        if (path == "/rpc") return rpc(env, r);
        if (path == "/api/login") return api_login(env, r);
        if (path == "/api/login-link") return api_login_link(env, settings, r);
        return api_logout(env, r);
    }

    const bool get_route = path == "/" || path == "/health" || path == "/login" || path == "/index.html" ||
                           path == "/api/session" ||
                           (path.starts_with(kAssetsPrefix) && path.size() > kAssetsPrefix.size());
    if (!get_route) return not_found();
    if (!is_get(r)) return method_not_allowed("GET, HEAD");
    if (path == "/health") return Response::text(200, "ok\n");
    if (path == "/" || path == "/index.html") return serve_file(settings, realm_page(r.realm));
    if (path == "/login") return login_page(env, settings, r);
    if (path == "/api/session") return api_session(env, r);
    return serve_file(settings, "assets/" + path.substr(kAssetsPrefix.size()));
}

}  // namespace

Response handle(const Environment& env, const AppSettings& settings, const Request& request) {
    Response r = route(env, settings, request);
    const bool asset = r.status == 200 && request.path.starts_with(kAssetsPrefix);
    add_security_headers(r, asset);
    return r;
}

}  // namespace pmx::web
