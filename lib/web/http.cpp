#include "web/http.hpp"

#include <fmt/format.h>

#include "util/text.hpp"

namespace pmx::web {

std::string_view realm_name(Realm r) { return r == Realm::Admin ? "admin" : "user"; }

std::string Request::header(std::string_view lower_case_name) const {
    auto it = headers.find(std::string(lower_case_name));
    return it == headers.end() ? std::string() : it->second;
}

std::optional<std::string> Request::cookie(std::string_view name) const {
    // Cookie: a=1; b="2"  (RFC 6265 5.4: pairs separated by "; ", values optionally quoted).
    const std::string all = header("cookie");
    std::string_view rest = all;
    while (!rest.empty()) {
        auto semi = rest.find(';');
        std::string_view pair = trim(rest.substr(0, semi));
        rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
        auto eq = pair.find('=');
        if (eq == std::string_view::npos) continue;
        if (trim(pair.substr(0, eq)) != name) continue;
        std::string_view value = trim(pair.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return std::string(value);
    }
    return std::nullopt;
}

namespace {
Response with_type(int status, std::string body, const char* type) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers.emplace_back("Content-Type", type);
    return r;
}
}  // namespace

Response Response::json(int status, std::string body) { return with_type(status, std::move(body), "application/json"); }
Response Response::text(int status, std::string body) {
    return with_type(status, std::move(body), "text/plain; charset=utf-8");
}
Response Response::html(int status, std::string body) {
    return with_type(status, std::move(body), "text/html; charset=utf-8");
}

Response Response::redirect(std::string_view location) {
    Response r = text(303, "See Other\n");
    r.headers.emplace_back("Location", std::string(location));
    return r;
}

Response& Response::with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
}

std::string_view session_cookie_name(Realm r) { return r == Realm::Admin ? "pmx_admin_session" : "pmx_user_session"; }

std::string session_cookie(Realm r, std::string_view value, long max_age_seconds) {
    return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict", session_cookie_name(r), value,
                       max_age_seconds < 0 ? 0 : max_age_seconds);
}

}  // namespace pmx::web
