// The JSON RPC dispatcher (transport rules, access) and the quarantine, lists and user methods
// against a real SQLite store in a temporary directory: scope per recipient for end users,
// group admins with a domain, and admins; and the man page listing every method.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/loader.hpp"
#include "store/digest_store.hpp"
#include "store/quarantine_store.hpp"
#include "man_items.hpp"
#include "temp_dir.hpp"
#include "web/rpc.hpp"

using namespace pmx;
using namespace pmx::web;
using Json = nlohmann::json;

namespace {

constexpr Rights kQL = static_cast<Rights>(Right::Quarantine) | static_cast<Rights>(Right::Lists);

std::string message_text(const std::string& to, const std::string& subject, const std::string& body) {
    return "From: sender@example.net\r\nTo: " + to + "\r\nSubject: " + subject +
           "\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
           body +
           "\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
           "filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ=\r\n--b1--\r\n";
}

struct Fixture {
    test::TempDir t{"pmx-rpc"};
    Environment env;
    std::int64_t m_alice = 0, m_bob = 0, m_shared = 0, m_dave = 0;

    Fixture() {
        auto dir = t.path.string();
        auto snap = config::load_files({t.write("pmx.toml", "[database]\npath = \"" + dir + "/pmx.db\"\n[quarantine]\ndir = \"" +
                                                                dir + "/q\"\n[queue]\nspool_dir = \"" + dir + "/spool\"\n")});
        REQUIRE_MESSAGE(snap, snap.error().message);
        env.config = std::make_shared<const config::Snapshot>(std::move(*snap));
        std::filesystem::create_directories(t.path / "q");
        std::filesystem::create_directories(t.path / "spool");
        auto db = env.open_database();
        REQUIRE(db);
        auto put = [&](std::vector<std::string> rcpts, const std::string& subject, std::int64_t at) {
            store::QuarantineMeta meta{.time_us = at, .queue_id = "Q" + std::to_string(at), .client_ip = "192.0.2.1",
                                       .sender = "sender@example.net", .recipients = rcpts, .subject = subject,
                                       .reason = "spam", .score = 9.5, .node = "gw", .rule = "spam-hold"};
            auto id = store::quarantine(*db, t.path / "q", message_text(rcpts.front(), subject, "Body of " + subject), meta);
            REQUIRE(id);
            return *id;
        };
        m_alice = put({"alice@a.test"}, "for alice", 1000000);
        m_bob = put({"bob@a.test"}, "for bob", 2000000);
        m_shared = put({"Alice@A.test", "carol@b.test"}, "for alice and carol", 3000000);
        m_dave = put({"dave@b.test"}, "for dave", 4000000);
    }

    static Session session(Principal::Kind kind, std::string name, std::vector<ScopeItem> scope, Realm realm) {
        Session s;
        s.id = "sid";
        s.csrf = "csrf-token-0123456789";
        s.realm = realm;
        s.who.kind = kind;
        s.who.name = std::move(name);
        s.who.scope = std::move(scope);
        return s;
    }
    static Session alice() { return session(Principal::Kind::User, "alice@a.test", {{"alice@a.test", kQL}}, Realm::User); }
    static Session group_admin() {
        return session(Principal::Kind::GroupAdmin, "gadmin", {{"@b.test", kQL}}, Realm::Admin);
    }
    static Session admin() { return session(Principal::Kind::Admin, "root", {}, Realm::Admin); }

    Response raw(const std::optional<Session>& s, std::string body, std::optional<std::string> csrf = {},
                 std::optional<Realm> realm = {}) {
        Request r;
        r.method = "POST";
        r.path = "/rpc";
        r.realm = realm ? *realm : s ? s->realm : Realm::User;
        r.body = std::move(body);
        if (csrf) r.headers["x-pmx-csrf"] = *csrf;
        else if (s) r.headers["x-pmx-csrf"] = s->csrf;
        return handle_rpc(env, r, s);
    }
    // The whole reply of one call.
    Json call(const Session& s, const std::string& method, Json params = Json::object()) {
        auto r = raw(s, Json{{"jsonrpc", "2.0"}, {"id", 7}, {"method", method}, {"params", params}}.dump());
        REQUIRE(r.status == 200);
        auto j = Json::parse(r.body);
        CHECK(j["id"] == 7);
        return j;
    }
    Json result(const Session& s, const std::string& method, Json params = Json::object()) {
        auto j = call(s, method, std::move(params));
        INFO(j.dump());
        REQUIRE(j.contains("result"));
        return j["result"];
    }
    int error_code(const Session& s, const std::string& method, Json params = Json::object()) {
        auto j = call(s, method, std::move(params));
        INFO(j.dump());
        REQUIRE(j.contains("error"));
        return j["error"]["code"].get<int>();
    }
    std::set<std::int64_t> ids(const Json& search_result) {
        std::set<std::int64_t> out;
        for (const auto& m : search_result["messages"]) out.insert(m["id"].get<std::int64_t>());
        return out;
    }
    store::QuarantinedMessage stored(std::int64_t id) {
        auto db = env.open_database();
        REQUIRE(db);
        auto m = store::find_quarantined(*db, t.path / "q", id);
        REQUIRE(m);
        REQUIRE(m->has_value());
        return **m;
    }
    bool exists(std::int64_t id) {
        auto db = env.open_database();
        REQUIRE(db);
        auto m = store::find_quarantined(*db, t.path / "q", id);
        REQUIRE(m);
        return m->has_value();
    }
};

}  // namespace

TEST_CASE("web rpc: the transport rules (session, CSRF, JSON)") {
    Fixture f;
    auto s = Fixture::alice();
    const std::string whoami = R"({"jsonrpc":"2.0","id":1,"method":"session.whoami"})";

    CHECK(f.raw(std::nullopt, whoami).status == 401);
    CHECK(f.raw(s, whoami, std::nullopt, Realm::Admin).status == 401);  // a user session on the admin port
    CHECK(f.raw(s, whoami, std::string("")).status == 403);
    CHECK(f.raw(s, whoami, std::string("csrf-token-0123456788")).status == 403);
    CHECK(f.raw(s, whoami, std::string("csrf-token-012345678")).status == 403);
    auto empty_csrf = s;
    empty_csrf.csrf = "";
    CHECK(f.raw(empty_csrf, whoami, std::string("")).status == 403);  // an empty token never matches

    CHECK(f.raw(s, "not json").status == 400);
    CHECK(f.raw(s, "[" + whoami + "]").status == 400);  // batches are refused
    CHECK(f.raw(s, "\"a string\"").status == 400);
    CHECK(f.raw(s, std::string(100, '[') + std::string(100, ']')).status == 400);  // too deep
    auto bad = f.raw(s, "{");
    CHECK(bad.status == 400);
    CHECK(Json::parse(bad.body)["error"]["code"] == rpc_code::kParseError);

    Request get;
    get.method = "GET";
    get.realm = Realm::User;
    CHECK(handle_rpc(f.env, get, s).status == 405);

    auto ok = f.raw(s, whoami);
    CHECK(ok.status == 200);
    auto j = Json::parse(ok.body);
    CHECK(j["jsonrpc"] == "2.0");
    CHECK(j["id"] == 1);
    CHECK(j["result"]["name"] == "alice@a.test");
    CHECK(j["result"]["kind"] == "user");
    CHECK(j["result"]["realm"] == "user");
    CHECK(j["result"]["rights"] == Json::array({"quarantine", "lists"}));
    CHECK(j["result"]["scope"][0]["pattern"] == "alice@a.test");

    // A string id is echoed; a bad id, version or method is an invalid request.
    CHECK(Json::parse(f.raw(s, R"({"jsonrpc":"2.0","id":"x1","method":"session.whoami"})").body)["id"] == "x1");
    auto code = [&](const std::string& body) {
        auto r = f.raw(s, body);
        REQUIRE(r.status == 200);
        return Json::parse(r.body)["error"]["code"].get<int>();
    };
    CHECK(code(R"({"jsonrpc":"2.0","id":[1],"method":"session.whoami"})") == rpc_code::kInvalidRequest);
    CHECK(code(R"({"jsonrpc":"1.0","id":1,"method":"session.whoami"})") == rpc_code::kInvalidRequest);
    CHECK(code(R"({"jsonrpc":"2.0","id":1})") == rpc_code::kInvalidRequest);
    CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"no.such"})") == rpc_code::kMethodNotFound);
    CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"session.whoami","params":[1]})") == rpc_code::kInvalidParams);
    CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"quarantine.show","params":{"id":"x"}})") == rpc_code::kInvalidParams);
    CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"quarantine.show","params":{"id":1.5}})") == rpc_code::kInvalidParams);
    CHECK(code(R"({"jsonrpc":"2.0","id":1,"method":"quarantine.show"})") == rpc_code::kInvalidParams);
}

TEST_CASE("web rpc: realms and access (unknown here, forbidden without the right)") {
    Fixture f;
    // The end user's methods do not exist on the admin interface.
    auto ga = Fixture::group_admin();
    CHECK(f.error_code(ga, "user.settings") == rpc_code::kMethodNotFound);
    // Admin-only methods: forbidden for a group admin, unknown on the end-user port.
    const Method* admin_only = nullptr;
    for (const auto& m : methods())
        if (m.access.admin_only && m.access.admin_realm && !m.access.user_realm) {
            admin_only = &m;
            break;
        }
    REQUIRE(admin_only != nullptr);
    CHECK(f.error_code(ga, admin_only->name) == rpc_code::kForbidden);
    CHECK(f.error_code(Fixture::alice(), admin_only->name) == rpc_code::kMethodNotFound);
    // A right the caller has nowhere.
    auto reports_only = Fixture::session(Principal::Kind::GroupAdmin, "rep", {{"@b.test", static_cast<Rights>(Right::Reports)}},
                                         Realm::Admin);
    CHECK(f.error_code(reports_only, "quarantine.search") == rpc_code::kForbidden);
    CHECK(f.error_code(reports_only, "lists.show", {{"owner", "dave@b.test"}}) == rpc_code::kForbidden);

    // rpc.methods lists exactly what the caller may call.
    auto names = [&](const Session& s) {
        std::set<std::string> out;
        for (const auto& m : f.result(s, "rpc.methods")) out.insert(m["name"].get<std::string>());
        return out;
    };
    auto user = names(Fixture::alice());
    CHECK(user.count("quarantine.search") == 1);
    CHECK(user.count("user.set_digest") == 1);
    CHECK(user.count("session.whoami") == 1);
    CHECK(user.count(admin_only->name) == 0);
    auto rep = names(reports_only);
    CHECK(rep.count("quarantine.search") == 0);
    CHECK(rep.count("user.settings") == 0);
    auto adm = names(Fixture::admin());
    CHECK(adm.count(admin_only->name) == 1);
    CHECK(adm.count("quarantine.delete") == 1);
    CHECK(adm.count("user.settings") == 0);
    for (const auto& m : f.result(Fixture::admin(), "rpc.methods")) CHECK(!m["summary"].get<std::string>().empty());
}

TEST_CASE("web rpc: an end user sees, shows, releases and deletes only their own quarantined mail") {
    Fixture f;
    auto s = Fixture::alice();
    auto found = f.result(s, "quarantine.search");
    CHECK(f.ids(found) == std::set<std::int64_t>{f.m_alice, f.m_shared});
    CHECK(found["limit"] == 50);
    for (const auto& m : found["messages"]) {
        CHECK(m["recipients"].size() == 1);  // carol is not shown on the shared message
        CHECK(m["recipient_states"].size() == 1);
        CHECK(!m.contains("file"));
    }
    CHECK(found["messages"][0]["id"] == f.m_shared);  // newest first
    CHECK(found["messages"][0]["recipients"][0] == "Alice@A.test");
    // Searching for another recipient of a visible message finds nothing.
    CHECK(f.result(s, "quarantine.search", {{"recipient", "carol"}})["messages"].empty());
    CHECK(f.result(s, "quarantine.search", {{"recipient", "bob"}})["messages"].empty());
    CHECK(f.ids(f.result(s, "quarantine.search", {{"subject", "carol"}})) == std::set<std::int64_t>{f.m_shared});
    CHECK(f.ids(f.result(s, "quarantine.search", {{"text", "alice"}, {"state", "held"}})).size() == 2);
    CHECK(f.error_code(s, "quarantine.search", {{"limit", 0}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.search", {{"limit", 501}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.search", {{"state", "gone"}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.search", {{"text", "\"open"}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.search", {{"since", "someday"}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.search", {{"min_score", 5}, {"max_score", 1}}) == rpc_code::kInvalidParams);
    CHECK(f.result(s, "quarantine.search", {{"since", "2000-01-01"}})["messages"].empty());  // all from 1970

    // show: their own message with headers, parts and text; anyone else's is "not found".
    auto shown = f.result(s, "quarantine.show", {{"id", f.m_alice}});
    CHECK(shown["subject"] == "for alice");
    CHECK(shown["headers"].get<std::string>().find("Subject: for alice") != std::string::npos);
    CHECK(shown["text"] == "Body of for alice");
    REQUIRE(shown["parts"].size() == 2);
    CHECK(shown["parts"][1]["filename"] == "data.bin");
    CHECK(shown["parts"][1]["size"] == 5);
    CHECK(shown["why"]["reason"] == "spam");
    CHECK(shown["why"]["rule"] == "spam-hold");
    CHECK(shown["why"]["score"] == 9.5);
    CHECK(f.error_code(s, "quarantine.show", {{"id", f.m_bob}}) == rpc_code::kNotFound);
    CHECK(f.error_code(s, "quarantine.show", {{"id", f.m_dave}}) == rpc_code::kNotFound);
    CHECK(f.error_code(s, "quarantine.show", {{"id", 999999}}) == rpc_code::kNotFound);
    auto other = f.call(s, "quarantine.show", {{"id", f.m_bob}});
    auto missing = f.call(s, "quarantine.show", {{"id", 999999}});
    CHECK(other["error"]["message"] == "No quarantined message with id " + std::to_string(f.m_bob));  // says nothing more
    CHECK(missing["error"]["message"] == "No quarantined message with id 999999");

    // release: another's is refused per id, the shared one only for alice.
    auto rel = f.result(s, "quarantine.release", {{"ids", {f.m_bob, f.m_shared}}});
    REQUIRE(rel["results"].size() == 2);
    CHECK(rel["results"][0]["id"] == f.m_bob);
    CHECK(rel["results"][0]["error"] == "No quarantined message with id " + std::to_string(f.m_bob));
    CHECK(rel["results"][1]["released"] == Json::array({"Alice@A.test"}));
    CHECK(!rel["results"][1]["queue_entry"].get<std::string>().empty());
    auto shared = f.stored(f.m_shared);
    CHECK(shared.states[0].released_us.has_value());
    CHECK(shared.states[0].released_by == "web:alice@a.test");
    CHECK(!shared.states[1].released_us.has_value());  // carol's copy is still held
    CHECK(f.stored(f.m_bob).held());
    auto again = f.result(s, "quarantine.release", {{"ids", {f.m_shared}}});
    CHECK(again["results"][0]["released"].empty());
    CHECK(again["results"][0]["already_released"] == Json::array({"Alice@A.test"}));
    auto carol = f.result(s, "quarantine.release", {{"ids", {f.m_alice}}, {"recipients", {"carol@b.test"}}});
    CHECK(carol["results"][0]["error"].get<std::string>().find("carol@b.test") != std::string::npos);
    CHECK(f.stored(f.m_alice).held());
    CHECK(f.error_code(s, "quarantine.release", {{"ids", Json::array()}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.release", {{"ids", {0}}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "quarantine.release", {{"ids", std::vector<int>(501, 1)}}) == rpc_code::kInvalidParams);

    // delete: another's is not found, a message shared with others is refused, their own goes.
    auto del = f.result(s, "quarantine.delete", {{"ids", {f.m_bob}}});
    CHECK(del["results"][0]["error"] == "No quarantined message with id " + std::to_string(f.m_bob));
    CHECK(f.exists(f.m_bob));
    auto refused = f.call(s, "quarantine.delete", {{"ids", {f.m_alice, f.m_shared}}});
    REQUIRE(refused.contains("error"));
    CHECK(refused["error"]["code"] == rpc_code::kForbidden);
    CHECK(refused["error"]["message"].get<std::string>().find(std::to_string(f.m_shared)) != std::string::npos);
    CHECK(f.exists(f.m_alice));  // nothing deleted when one is refused
    auto gone = f.result(s, "quarantine.delete", {{"ids", {f.m_alice}}});
    CHECK(gone["results"][0]["deleted"] == true);
    CHECK(!f.exists(f.m_alice));
}

TEST_CASE("web rpc: a group admin's domain scope, and an admin sees everything") {
    Fixture f;
    auto ga = Fixture::group_admin();
    auto found = f.result(ga, "quarantine.search");
    CHECK(f.ids(found) == std::set<std::int64_t>{f.m_shared, f.m_dave});
    for (const auto& m : found["messages"])
        if (m["id"] == f.m_shared) CHECK(m["recipients"] == Json::array({"carol@b.test"}));
    CHECK(f.error_code(ga, "quarantine.show", {{"id", f.m_alice}}) == rpc_code::kNotFound);
    CHECK(f.result(ga, "quarantine.delete", {{"ids", {f.m_dave}}})["results"][0]["deleted"] == true);
    CHECK(f.error_code(ga, "quarantine.delete", {{"ids", {f.m_shared}}}) == rpc_code::kForbidden);

    // A scope with an address and a domain; the domain is exactly that domain, in any case.
    auto mixed = Fixture::session(Principal::Kind::GroupAdmin, "mix",
                                  {{"bob@a.test", static_cast<Rights>(Right::Quarantine)}, {"@B.TEST", kQL}}, Realm::Admin);
    CHECK(f.ids(f.result(mixed, "quarantine.search")) == std::set<std::int64_t>{f.m_bob, f.m_shared});
    auto nothing = Fixture::session(Principal::Kind::GroupAdmin, "sub", {{"@sub.b.test", kQL}}, Realm::Admin);
    CHECK(f.result(nothing, "quarantine.search")["messages"].empty());

    auto admin = Fixture::admin();
    auto all = f.result(admin, "quarantine.search");
    CHECK(f.ids(all) == std::set<std::int64_t>{f.m_alice, f.m_bob, f.m_shared});
    for (const auto& m : all["messages"]) {
        CHECK(m.contains("file"));
        if (m["id"] == f.m_shared) CHECK(m["recipients"].size() == 2);
    }
    auto rel = f.result(admin, "quarantine.release", {{"ids", {f.m_shared}}, {"recipients", {"carol@b.test"}}});
    CHECK(rel["results"][0]["released"] == Json::array({"carol@b.test"}));
    CHECK(f.stored(f.m_shared).states[1].released_by == "web:root");
    CHECK(f.result(admin, "quarantine.delete", {{"ids", {f.m_shared, 999999}}})["results"] ==
          Json::parse(R"([{"id":)" + std::to_string(f.m_shared) +
                      R"(,"deleted":true},{"id":999999,"error":"No quarantined message with id 999999"}])"));
}

TEST_CASE("web rpc: lists of one's own address, of addresses in scope, and the global ones") {
    Fixture f;
    auto s = Fixture::alice();
    auto own = f.result(s, "lists.show");
    CHECK(own["owner"] == "alice@a.test");
    CHECK(own["allow"].empty());
    CHECK(f.result(s, "lists.add", {{"list", "allow"}, {"entries", {"friend@x.test", "Partner.example"}}})["added"] == 2);
    CHECK(f.result(s, "lists.add", {{"list", "allow"}, {"entries", {"friend@x.test"}}})["added"] == 0);
    CHECK(f.result(s, "lists.add", {{"owner", "ALICE@a.test"}, {"list", "block"}, {"entries", {"192.0.2.0/24"}}})["added"] == 1);
    own = f.result(s, "lists.show");
    REQUIRE(own["allow"].size() == 2);
    CHECK(own["allow"][0]["pattern"] == "friend@x.test");
    CHECK(own["allow"][0]["comment"] == "added by web:alice@a.test");
    CHECK(own["block"][0]["type"] == "host");
    CHECK(f.result(s, "lists.remove", {{"list", "allow"}, {"entries", {"friend@x.test", "nobody@x.test"}}})["removed"] == 1);
    CHECK(f.result(s, "lists.show")["allow"].size() == 1);

    CHECK(f.error_code(s, "lists.show", {{"owner", "bob@a.test"}}) == rpc_code::kForbidden);
    CHECK(f.error_code(s, "lists.add", {{"owner", "bob@a.test"}, {"list", "allow"}, {"entries", {"x@y.test"}}}) ==
          rpc_code::kForbidden);
    CHECK(f.error_code(s, "lists.remove", {{"owner", "bob@a.test"}, {"list", "allow"}, {"entries", {"x@y.test"}}}) ==
          rpc_code::kForbidden);
    CHECK(f.error_code(s, "lists.show", {{"owner", ""}}) == rpc_code::kForbidden);
    CHECK(f.error_code(s, "lists.add", {{"list", "maybe"}, {"entries", {"x@y.test"}}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "lists.add", {{"list", "allow"}, {"entries", Json::array()}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "lists.add", {{"list", "allow"}, {"entries", {"a b c"}}}) == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "lists.add", {{"list", "allow"}, {"entries", "x@y.test"}}) == rpc_code::kInvalidParams);

    auto ga = Fixture::group_admin();
    CHECK(f.error_code(ga, "lists.show") == rpc_code::kInvalidParams);  // must name an owner
    // The lists of a whole domain (the policy checks them for every recipient there): for a group
    // admin with that domain, not for an end user at it, nor for another domain.
    CHECK(f.result(ga, "lists.add", {{"owner", "@B.test"}, {"list", "allow"}, {"entries", {"partner.example"}}})["added"] == 1);
    CHECK(f.result(ga, "lists.show", {{"owner", "@b.test"}})["allow"][0]["pattern"] == "partner.example");
    CHECK(f.error_code(ga, "lists.show", {{"owner", "@a.test"}}) == rpc_code::kForbidden);
    CHECK(f.error_code(s, "lists.show", {{"owner", "@a.test"}}) == rpc_code::kForbidden);
    CHECK(f.error_code(ga, "lists.show", {{"owner", "@"}}) == rpc_code::kInvalidParams);
    CHECK(f.result(ga, "lists.add", {{"owner", "dave@b.test"}, {"list", "block"}, {"entries", {"spam@x.test"}}})["added"] == 1);
    CHECK(f.error_code(ga, "lists.show", {{"owner", "alice@a.test"}}) == rpc_code::kForbidden);
    CHECK(f.error_code(ga, "lists.show", {{"owner", ""}}) == rpc_code::kForbidden);

    auto admin = Fixture::admin();
    CHECK(f.result(admin, "lists.show")["owner"] == "");
    CHECK(f.result(admin, "lists.add", {{"owner", ""}, {"list", "block"}, {"entries", {"evil.example"}}})["added"] == 1);
    CHECK(f.result(admin, "lists.show")["block"][0]["pattern"] == "evil.example");
    CHECK(f.result(admin, "lists.show", {{"owner", "dave@b.test"}})["block"][0]["pattern"] == "spam@x.test");
}

TEST_CASE("web rpc: an end user's own settings (digest opt-out, password)") {
    Fixture f;
    auto s = Fixture::alice();
    s.who.scope.push_back({"boss@a.test", kQL});  // delegated to alice
    auto settings = f.result(s, "user.settings");
    CHECK(settings["address"] == "alice@a.test");
    CHECK(settings["addresses"] == Json::array({"alice@a.test", "boss@a.test"}));
    CHECK(settings["digest_opt_out"] == false);
    CHECK(settings["has_password"] == false);

    CHECK(f.result(s, "user.set_digest", {{"opt_out", true}})["digest_opt_out"] == true);
    CHECK(f.result(s, "user.settings")["digest_opt_out"] == true);
    {
        auto db = f.env.open_database();
        REQUIRE(db);
        auto st = store::digest_recipient_state(*db, "alice@a.test");
        REQUIRE(st);
        REQUIRE(st->has_value());
        CHECK((*st)->opted_out);
    }
    CHECK(f.result(s, "user.set_digest", {{"opt_out", false}})["digest_opt_out"] == false);
    CHECK(f.result(s, "user.settings")["digest_opt_out"] == false);
    CHECK(f.error_code(s, "user.set_digest") == rpc_code::kInvalidParams);
    CHECK(f.error_code(s, "user.set_digest", {{"opt_out", "yes"}}) == rpc_code::kInvalidParams);

    CHECK(f.error_code(s, "user.set_password", {{"new", "short"}}) == rpc_code::kInvalidParams);
    CHECK(f.result(s, "user.set_password", {{"new", "a long first password"}}) == Json::object());
    CHECK(f.result(s, "user.settings")["has_password"] == true);
    CHECK(f.error_code(s, "user.set_password", {{"new", "a long second password"}}) == rpc_code::kForbidden);
    CHECK(f.error_code(s, "user.set_password", {{"current", "wrong password!"}, {"new", "a long second password"}}) ==
          rpc_code::kForbidden);
    CHECK(f.result(s, "user.set_password", {{"current", "a long first password"}, {"new", "a long second password"}}) ==
          Json::object());
}

TEST_CASE("web rpc: the method table is consistent") {
    std::set<std::string> names;
    for (const auto& m : methods()) {
        CAPTURE(m.name);
        CHECK(names.insert(m.name).second);  // no method registered twice
        CHECK(!m.summary.empty());
        CHECK((m.access.admin_realm || m.access.user_realm));
        CHECK(m.handler);
        CHECK(find_method(m.name) == &m);
    }
    CHECK(find_method("no.such") == nullptr);
}

TEST_CASE("pmx-rpc(7) documents every RPC method, and nothing that is not one") {
    // Methods are documented as items: a line holding only "*group.method*".
    const auto documented = pmx::test::man_page_items("man/pmx-rpc.7.scd");
    REQUIRE(!documented.empty());
    for (const auto& method : methods()) {
        CAPTURE(method.name);
        CHECK(documented.count(method.name) == 1);
    }
    for (const auto& d : documented) {
        CAPTURE(d);
        CHECK(find_method(d) != nullptr);
    }
}

TEST_CASE("quarantine search: recipient_scope matches addresses and exact domains, wildcards are literal") {
    test::TempDir t("pmx-scope");
    auto db = store::Database::open(t.path / "pmx.db");
    REQUIRE(db);
    std::filesystem::create_directories(t.path / "q");
    auto put = [&](std::string rcpt) {
        store::QuarantineMeta meta{.time_us = 1, .recipients = {std::move(rcpt)}, .subject = "s", .reason = "spam"};
        auto id = store::quarantine(*db, t.path / "q", "Subject: s\r\n\r\nbody\r\n", meta);
        REQUIRE(id);
        return *id;
    };
    auto under = put("x@a_b.test"), other = put("x@aXb.test"), sub = put("y@sub.a_b.test"), upper = put("Z@A_B.TEST");
    auto found = [&](std::vector<std::string> scope) {
        store::QuarantineFilter f;
        f.recipient_scope = std::move(scope);
        auto r = store::search_quarantine(*db, t.path / "q", f);
        REQUIRE(r);
        std::set<std::int64_t> ids;
        for (const auto& m : *r) ids.insert(m.id);
        return ids;
    };
    CHECK(found({"@a_b.test"}) == std::set<std::int64_t>{under, upper});
    CHECK(found({"@%"}).empty());
    CHECK(found({"@_b.test"}).empty());
    CHECK(found({"x@aXb.test", "@sub.a_b.test"}) == std::set<std::int64_t>{other, sub});
    CHECK(found({"X@AXB.TEST"}) == std::set<std::int64_t>{other});
    CHECK(found({}).empty());
    store::QuarantineFilter many;
    many.recipient_scope = std::vector<std::string>(1001, "a@b.test");
    CHECK(!store::search_quarantine(*db, t.path / "q", many));  // capped
}
