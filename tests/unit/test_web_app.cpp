// The web application behind pmx-httpd's ports (lib/web/app.cpp, http.cpp, static_files.cpp):
// routing, static files and their path safety, content types, the security headers on every kind
// of response, 405/413/cross-origin refusals, cookies, html_escape, and a sign-in → RPC → sign-out
// round trip on a real SQLite file.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.hpp"
#include "secret/keyring.hpp"
#include "store/database.hpp"
#include "temp_dir.hpp"
#include "web/app.hpp"
#include "web/groups_store.hpp"
#include "web/password.hpp"
#include "web/rate_limit.hpp"
#include "web/static_files.hpp"

using namespace pmx;
using namespace pmx::web;
namespace fs = std::filesystem;

namespace {

struct App {
    test::TempDir dir{"pmx-web-app"};
    Environment env;
    AppSettings settings;

    explicit App(std::int64_t max_request_bytes = 4096) {
        auto toml = dir.write("pmx.toml", "[database]\npath = \"" + (dir.path / "pmx.db").string() +
                                              "\"\n[queue]\nspool_dir = \"" + (dir.path / "spool").string() +
                                              "\"\n[httpd]\nmax_request_bytes = " + std::to_string(max_request_bytes) +
                                              "\n");
        auto snap = config::load_files({toml});
        if (!snap) FAIL(snap.error().message);
        env.config = std::make_shared<const config::Snapshot>(std::move(*snap));
        env.limiter = std::make_shared<RateLimiter>(5, std::chrono::seconds(300));
        env.keyring = std::make_shared<const secret::Keyring>(std::vector<secret::Key>{{"0000abcd", 1, std::string(32, 'k')}});
        settings.assets_dir = dir.path / "web";
        settings.user_base_url = "https://gw.test:8444";
        dir.write("web/admin.html", "<!DOCTYPE html><title>admin</title>");
        dir.write("web/user.html", "<!DOCTYPE html><title>user</title>");
        dir.write("web/assets/app.js", "export {};");
        dir.write("web/assets/pmx.css", "body{}");
        dir.write("web/assets/logo.svg", "<svg/>");
        dir.write("web/assets/sub/deep.js", "1;");
        dir.write("web/assets/.secret", "hidden");
        dir.write("outside.txt", "outside the assets");
        fs::create_symlink(dir.path / "outside.txt", dir.path / "web/assets/escape.txt");
        fs::create_symlink(dir.path / "web/assets/app.js", dir.path / "web/assets/inside.js");
        fs::create_directories(dir.path / "spool");
    }

    Response call(Realm realm, std::string method, std::string path, std::string body = "",
                  std::map<std::string, std::string> headers = {}) const {
        Request r;
        r.realm = realm;
        r.method = std::move(method);
        r.path = std::move(path);
        r.body = std::move(body);
        r.headers = std::move(headers);
        if (!r.headers.count("host")) r.headers["host"] = realm == Realm::Admin ? "gw.test:8443" : "gw.test:8444";
        r.client_ip = "127.0.0.1";
        return handle(env, settings, r);
    }
    Response get(Realm realm, std::string path) const { return call(realm, "GET", std::move(path)); }
};

std::string header_of(const Response& r, std::string_view name) {
    for (const auto& [n, v] : r.headers)
        if (n == name) return v;
    return "";
}

std::vector<std::string> headers_named(const Response& r, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& [n, v] : r.headers)
        if (n == name) out.push_back(v);
    return out;
}

void check_security_headers(const Response& r, bool asset = false) {
    CAPTURE(r.status);
    CAPTURE(r.body);
    CHECK(header_of(r, "Content-Security-Policy") ==
          "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
          "base-uri 'none'; form-action 'self'");
    CHECK(header_of(r, "X-Frame-Options") == "DENY");
    CHECK(header_of(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header_of(r, "Referrer-Policy") == "no-referrer");
    CHECK(header_of(r, "Strict-Transport-Security").starts_with("max-age="));
    CHECK(headers_named(r, "Cache-Control").size() == 1);
    if (asset)
        CHECK(header_of(r, "Cache-Control") != "no-store");
    else
        CHECK(header_of(r, "Cache-Control") == "no-store");
}

// The session cookie value a response sets ("" when none).
std::string set_cookie_value(const Response& r, std::string_view name) {
    for (const auto& c : headers_named(r, "Set-Cookie"))
        if (c.starts_with(std::string(name) + "=")) return c.substr(name.size() + 1, c.find(';') - name.size() - 1);
    return "";
}

}  // namespace

TEST_CASE("web app: each realm's page at /, assets with their content types") {
    App app;
    auto admin = app.get(Realm::Admin, "/");
    CHECK(admin.status == 200);
    CHECK(admin.body.find("<title>admin</title>") != std::string::npos);
    CHECK(header_of(admin, "Content-Type") == "text/html; charset=utf-8");
    check_security_headers(admin);
    auto user = app.get(Realm::User, "/");
    CHECK(user.status == 200);
    CHECK(user.body.find("<title>user</title>") != std::string::npos);

    auto js = app.get(Realm::User, "/assets/app.js");
    CHECK(js.status == 200);
    CHECK(js.body == "export {};");
    CHECK(header_of(js, "Content-Type") == "text/javascript; charset=utf-8");
    check_security_headers(js, true);
    CHECK(header_of(app.get(Realm::Admin, "/assets/pmx.css"), "Content-Type") == "text/css; charset=utf-8");
    CHECK(header_of(app.get(Realm::Admin, "/assets/logo.svg"), "Content-Type") == "image/svg+xml");
    CHECK(app.get(Realm::Admin, "/assets/sub/deep.js").status == 200);
    CHECK(app.get(Realm::Admin, "/assets/inside.js").status == 200);  // a symlink that stays inside
    auto head = app.call(Realm::Admin, "HEAD", "/assets/app.js");
    CHECK(head.status == 200);

    // /login without a token: the realm's page (the pages sign in themselves) when there is no login.html.
    CHECK(app.get(Realm::Admin, "/login").body.find("<title>admin</title>") != std::string::npos);
    app.dir.write("web/login.html", "<!DOCTYPE html><title>login</title>");
    CHECK(app.get(Realm::User, "/login").body.find("<title>login</title>") != std::string::npos);
}

TEST_CASE("web app: /health, unknown paths and missing pages are plain answers with the security headers") {
    App app;
    auto health = app.get(Realm::Admin, "/health");
    CHECK(health.status == 200);
    CHECK(health.body == "ok\n");
    check_security_headers(health);
    for (const char* p : {"/nothing", "/admin.html", "/assets/", "/assets/missing.js", "/api", "/rpc/x", ""}) {
        CAPTURE(p);
        auto r = app.get(Realm::Admin, p);
        CHECK(r.status == 404);
        check_security_headers(r);
    }
    fs::remove(app.dir.path / "web/user.html");
    CHECK(app.get(Realm::User, "/").status == 404);
    fs::remove_all(app.dir.path / "web");
    CHECK(app.get(Realm::Admin, "/").status == 404);
    CHECK(app.get(Realm::Admin, "/assets/app.js").status == 404);
}

TEST_CASE("web app: asset paths never leave the assets directory") {
    App app;
    const std::vector<std::string> bad = {
        "/assets/../admin.html", "/assets/../../outside.txt", "/assets/sub/../../admin.html",
        "/assets/%2e%2e/admin.html", "/assets/%2E%2E/outside.txt", "/assets/..%2fadmin.html",
        "/assets//etc/passwd", "/assets/./app.js", "/assets/.secret", "/assets/sub/",
        "/assets/app.js\\..", std::string("/assets/app.js\0.txt", 20), std::string("/assets/\0", 9),
        "/assets/escape.txt",  // a symlink out of the directory
        "/assets/" + (fs::path("/etc/passwd")).string(), "/assets/sub//deep.js", "/assets/app.js/",
    };
    for (const auto& p : bad) {
        CAPTURE(p);
        auto r = app.get(Realm::Admin, p);
        CHECK(r.status == 404);
        CHECK(r.body.find("outside") == std::string::npos);
        check_security_headers(r);
    }

    CHECK(safe_asset_name("app.js"));
    CHECK(safe_asset_name("assets/sub/deep.js"));
    for (std::string_view n : {"", "/app.js", "..", "a/..", "../a", "a//b", "a/./b", ".hidden", "a/.b", "a\\b",
                               "%2e%2e", "a%00", "a\nb", "a/"})
        CHECK_FALSE(safe_asset_name(n));
    CHECK_FALSE(safe_asset_name(std::string_view("a\0b", 3)));
}

TEST_CASE("web app: content types by extension") {
    CHECK(content_type_for("a.html") == "text/html; charset=utf-8");
    CHECK(content_type_for("a.JS") == "text/javascript; charset=utf-8");
    CHECK(content_type_for("a.mjs") == "text/javascript; charset=utf-8");
    CHECK(content_type_for("x/a.css") == "text/css; charset=utf-8");
    CHECK(content_type_for("a.svg") == "image/svg+xml");
    CHECK(content_type_for("a.png") == "image/png");
    CHECK(content_type_for("a.json") == "application/json");
    CHECK(content_type_for("a.woff2") == "font/woff2");
    CHECK(content_type_for("a.md") == "text/markdown; charset=utf-8");
    CHECK(content_type_for("README") == "application/octet-stream");
    CHECK(content_type_for("a.d/README") == "application/octet-stream");
    CHECK(content_type_for("a.exe") == "application/octet-stream");
}

TEST_CASE("web app: wrong methods get 405 with Allow") {
    App app;
    for (const char* p : {"/rpc", "/api/login", "/api/login-link", "/api/logout"}) {
        CAPTURE(p);
        auto r = app.get(Realm::User, p);
        CHECK(r.status == 405);
        CHECK(header_of(r, "Allow") == "POST");
        check_security_headers(r);
    }
    for (const char* p : {"/", "/health", "/login", "/assets/app.js"}) {
        CAPTURE(p);
        for (const char* m : {"POST", "PUT", "DELETE"}) {
            auto r = app.call(Realm::Admin, m, p, "x");
            CHECK(r.status == 405);
            CHECK(header_of(r, "Allow") == "GET, HEAD");
            check_security_headers(r);
        }
    }
}

TEST_CASE("web app: bodies over httpd.max_request_bytes get 413") {
    App app(4096);
    auto r = app.call(Realm::Admin, "POST", "/rpc", std::string(4097, 'x'));
    CHECK(r.status == 413);
    check_security_headers(r);
    CHECK(app.call(Realm::User, "POST", "/api/login", std::string(5000, ' ')).status == 413);
    // At the cap: read (and refused for what it is, not for its size).
    CHECK(app.call(Realm::User, "POST", "/api/login", std::string(4096, ' ')).status == 400);
}

TEST_CASE("web app: a POST from another origin is refused, one from our own page is not") {
    App app;
    const std::string body = R"({"name":"x@example.org","password":"wrong password"})";
    for (const char* origin : {"https://evil.example", "http://gw.test:8444", "null", "https://gw.test:8443",
                               "https://gw.test", "https://gw.test:84445", "gw.test:8444"}) {
        CAPTURE(origin);
        auto r = app.call(Realm::User, "POST", "/api/login", body, {{"origin", origin}});
        CHECK(r.status == 403);
        check_security_headers(r);
        CHECK(app.call(Realm::User, "POST", "/rpc", "{}", {{"origin", origin}}).status == 403);
    }
    // Same origin (any case), or no Origin at all (scripts): on to the sign-in, which refuses the password.
    CHECK(app.call(Realm::User, "POST", "/api/login", body, {{"origin", "https://GW.test:8444"}}).status == 401);
    CHECK(app.call(Realm::User, "POST", "/api/login", body).status == 401);
    // The default port may be left out on either side.
    CHECK(app.call(Realm::User, "POST", "/api/login", body, {{"origin", "https://gw.test"}, {"host", "gw.test:443"}})
              .status == 401);
    // A POST without Host but with Origin cannot be matched.
    Request r;
    r.realm = Realm::User;
    r.method = "POST";
    r.path = "/api/login";
    r.body = body;
    r.headers = {{"origin", "https://gw.test:8444"}};
    CHECK(handle(app.env, app.settings, r).status == 403);
}

TEST_CASE("web app: sign-in input is checked before anything else") {
    App app;
    for (const char* body : {"", "not json", "[]", "{\"name\":1,\"password\":\"x\"}", "{\"name\":\"a\"}",
                             "{\"name\":\"\",\"password\":\"x\"}"}) {
        CAPTURE(body);
        auto r = app.call(Realm::Admin, "POST", "/api/login", body);
        CHECK(r.status == 400);
        CHECK(r.body.find("\"error\"") != std::string::npos);
        CHECK(header_of(r, "Content-Type") == "application/json");
        check_security_headers(r);
    }
    CHECK(app.call(Realm::User, "POST", "/api/login", "{\"name\":\"" + std::string(400, 'a') + "\",\"password\":\"x\"}").status ==
          400);
    // Sign-in links are for end users only.
    CHECK(app.call(Realm::Admin, "POST", "/api/login-link", R"({"address":"a@example.org"})").status == 404);
    CHECK(app.call(Realm::User, "POST", "/api/login-link", "{}").status == 400);
    Request link;
    link.realm = Realm::Admin;
    link.method = "GET";
    link.path = "/login";
    link.query = {{"token", "abc"}};
    CHECK(handle(app.env, app.settings, link).status == 404);
}

TEST_CASE("web app: a bad sign-in link gets an escaped page, no cookie") {
    App app;
    Request r;
    r.realm = Realm::User;
    r.method = "GET";
    r.path = "/login";
    r.query = {{"token", "<script>alert(1)</script>"}};
    auto res = handle(app.env, app.settings, r);
    CHECK(res.status >= 400);
    CHECK(res.body.find("<script>") == std::string::npos);
    CHECK(headers_named(res, "Set-Cookie").empty());
    CHECK(header_of(res, "Content-Type") == "text/html; charset=utf-8");
    check_security_headers(res);

    // HEAD (a mail system's link checker) never uses up a token: just the page.
    r.method = "HEAD";
    auto head = handle(app.env, app.settings, r);
    CHECK(head.status == 200);
    CHECK(headers_named(head, "Set-Cookie").empty());
}

TEST_CASE("web app: sign in, call /rpc, sign out (user realm, real database)") {
    App app;
    {
        auto db = app.env.open_database();
        REQUIRE(db);
        auto hash = hash_password("correct horse battery");
        REQUIRE(hash);
        REQUIRE(set_web_user(*db, "bob@example.org", *hash));
    }
    using nlohmann::json;
    auto login = app.call(Realm::User, "POST", "/api/login",
                          R"({"name":"bob@example.org","password":"correct horse battery"})");
    REQUIRE(login.status == 200);
    check_security_headers(login);
    auto body = json::parse(login.body);
    std::string csrf = body["csrf"];
    CHECK(csrf.size() >= 32);
    CHECK(body["who"]["name"] == "bob@example.org");
    CHECK(body["who"]["kind"] == "user");
    CHECK(body["who"]["realm"] == "user");
    CHECK(body["who"]["rights"].is_array());
    CHECK(body["who"]["scope"].is_array());
    auto cookies = headers_named(login, "Set-Cookie");
    REQUIRE(cookies.size() == 1);
    CHECK(cookies[0].find("; Path=/; Max-Age=43200; HttpOnly; Secure; SameSite=Strict") != std::string::npos);
    std::string session = set_cookie_value(login, "pmx_user_session");
    REQUIRE(!session.empty());

    const std::string whoami = R"({"jsonrpc":"2.0","id":7,"method":"session.whoami"})";
    const std::string cookie = "theme=dark; pmx_user_session=" + session;
    auto rpc = app.call(Realm::User, "POST", "/rpc", whoami, {{"cookie", cookie}, {"x-pmx-csrf", csrf}});
    CHECK(rpc.status == 200);
    CHECK(json::parse(rpc.body)["result"]["name"] == "bob@example.org");
    check_security_headers(rpc);
    // The same cookie means nothing on the admin port (another realm, another cookie name).
    CHECK(app.call(Realm::Admin, "POST", "/rpc", whoami, {{"cookie", cookie}, {"x-pmx-csrf", csrf}}).status == 401);
    CHECK(app.call(Realm::Admin, "POST", "/rpc", whoami, {{"cookie", "pmx_admin_session=" + session}, {"x-pmx-csrf", csrf}})
              .status == 401);
    CHECK(app.call(Realm::User, "POST", "/rpc", whoami).status == 401);

    // Sign-out needs the CSRF token.
    CHECK(app.call(Realm::User, "POST", "/api/logout", "", {{"cookie", cookie}}).status == 403);
    CHECK(app.call(Realm::User, "POST", "/api/logout", "", {{"cookie", cookie}, {"x-pmx-csrf", csrf + "x"}}).status == 403);
    auto out = app.call(Realm::User, "POST", "/api/logout", "", {{"cookie", cookie}, {"x-pmx-csrf", csrf}});
    CHECK(out.status == 200);
    CHECK(header_of(out, "Set-Cookie") == "pmx_user_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");
    check_security_headers(out);
    CHECK(app.call(Realm::User, "POST", "/rpc", whoami, {{"cookie", cookie}, {"x-pmx-csrf", csrf}}).status == 401);
    // Signing out again, or without a session at all: nothing to end, the cookie is cleared anyway.
    CHECK(app.call(Realm::User, "POST", "/api/logout", "", {{"cookie", cookie}}).status == 200);
    CHECK(app.call(Realm::User, "POST", "/api/logout", "").status == 200);

    auto wrong = app.call(Realm::User, "POST", "/api/login", R"({"name":"bob@example.org","password":"wrong one!!"})");
    CHECK(wrong.status == 401);
    CHECK(headers_named(wrong, "Set-Cookie").empty());
    check_security_headers(wrong);
}

TEST_CASE("web http: headers, cookies, responses, escaping") {
    Request r;
    r.headers = {{"cookie", "a=1; pmx_user_session=\"abc\" ;b = 2; empty=; novalue"}, {"host", "h"}};
    CHECK(r.header("host") == "h");
    CHECK(r.header("origin").empty());
    CHECK(r.cookie("a") == "1");
    CHECK(r.cookie("pmx_user_session") == "abc");
    CHECK(r.cookie("b") == "2");
    CHECK(r.cookie("empty") == "");
    CHECK_FALSE(r.cookie("novalue").has_value());
    CHECK_FALSE(r.cookie("pmx_user").has_value());
    CHECK_FALSE(Request{}.cookie("a").has_value());

    CHECK(realm_name(Realm::Admin) == "admin");
    CHECK(realm_name(Realm::User) == "user");
    CHECK(session_cookie_name(Realm::Admin) == "pmx_admin_session");
    CHECK(session_cookie_name(Realm::User) == "pmx_user_session");
    CHECK(session_cookie(Realm::Admin, "v", 60) == "pmx_admin_session=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict");
    CHECK(session_cookie(Realm::User, "", 0) == "pmx_user_session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict");

    auto j = Response::json(201, "{}");
    CHECK(j.status == 201);
    CHECK(j.headers == std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}});
    CHECK(Response::text(200, "x").headers[0].second == "text/plain; charset=utf-8");
    CHECK(Response::html(200, "x").headers[0].second == "text/html; charset=utf-8");
    auto redirect = Response::redirect("/");
    CHECK(redirect.status == 303);
    CHECK(header_of(redirect, "Location") == "/");
    auto with = Response::text(200, "x").with_header("X-A", "1").with_header("X-A", "2");
    CHECK(headers_named(with, "X-A") == std::vector<std::string>{"1", "2"});

    CHECK(html_escape("<a href=\"x\">Tom & 'Jerry'</a>") == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
    CHECK(html_escape("plain") == "plain");
    CHECK(html_escape("") == "");
}

TEST_CASE("web static files: httpd.assets resolves under the config directory, then the vendor directory") {
    test::TempDir dir{"pmx-web-assets"};
    config::Layout layout{dir.path / "vendor", dir.path / "etc"};
    CHECK(resolve_assets_dir(layout, "/srv/web") == "/srv/web");
    CHECK(resolve_assets_dir(layout, "web") == dir.path / "vendor/web");
    fs::create_directories(dir.path / "etc/web");
    CHECK(resolve_assets_dir(layout, "web") == dir.path / "etc/web");

    dir.write("big/a.js", std::string(100, 'x'));
    CHECK_FALSE(read_static_file(dir.path / "big", "a.js", 99).ok());
    auto ok = read_static_file(dir.path / "big", "a.js", 100);
    REQUIRE(ok);
    REQUIRE(ok->has_value());
    CHECK((*ok)->body.size() == 100);
    // A file that cannot be read is an error (500), not a 404.
    if (::geteuid() != 0) {
        ::chmod((dir.path / "big/a.js").c_str(), 0);
        CHECK_FALSE(read_static_file(dir.path / "big", "a.js").ok());
    }
}
