// Sign-in and accounts of pmx-httpd (lib/web): password hashes, the rate limiter, Principal
// checks, the Groups tables, sessions (expiry, realm binding, hashed at rest), one-time sign-in
// links and digest link tokens, all on a real SQLite file in a temporary directory.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "config/loader.hpp"
#include "digest/link_token.hpp"
#include "secret/crypto.hpp"
#include "secret/keyring.hpp"
#include "store/database.hpp"
#include "temp_dir.hpp"
#include "web/groups_store.hpp"
#include "web/pam_login.hpp"
#include "web/password.hpp"
#include "web/principal.hpp"
#include "web/rate_limit.hpp"
#include "web/rpc.hpp"
#include "web/session.hpp"
#include "web/session_store.hpp"

using namespace pmx;
using namespace pmx::web;
namespace fs = std::filesystem;

namespace {

struct Fixture {
    test::TempDir dir{"pmx-web-auth"};
    Environment env;
    Fixture(int max_failures = 3) {
        auto toml = dir.write("pmx.toml", "[database]\npath = \"" + (dir.path / "pmx.db").string() +
                                              "\"\n[queue]\nspool_dir = \"" + (dir.path / "spool").string() +
                                              "\"\n[httpd]\nlogin_max_failures = " + std::to_string(max_failures) +
                                              "\n[digest]\nfrom = \"quarantine@gw.test\"\n");
        auto snap = config::load_files({toml});
        if (!snap) FAIL(snap.error().message);
        env.config = std::make_shared<const config::Snapshot>(std::move(*snap));
        env.limiter = std::make_shared<RateLimiter>(max_failures, std::chrono::seconds(300));
        env.keyring = std::make_shared<const secret::Keyring>(
            std::vector<secret::Key>{{"0000abcd", 1, std::string(32, 'k')}});
        fs::create_directories(dir.path / "spool");
    }
    store::Database db() {
        auto d = env.open_database();
        if (!d) FAIL(d.error().message);
        return std::move(*d);
    }
};

std::int64_t count(store::Database& db, const std::string& sql) {
    auto s = db.prepare(sql);
    REQUIRE(s.ok());
    auto row = s->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    return s->int64(0);
}

void set_password(store::Database& db, const std::string& address, const std::string& password) {
    auto h = hash_password(password);
    REQUIRE(h.ok());
    REQUIRE(set_web_user(db, address, *h).ok());
}

// Every message in the spool, concatenated.
std::string spool_text(const fs::path& spool) {
    std::string all;
    if (!fs::exists(spool)) return all;
    for (const auto& e : fs::recursive_directory_iterator(spool))
        if (e.is_regular_file()) {
            std::ifstream in(e.path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            all += ss.str();
        }
    return all;
}

constexpr std::int64_t s_us = 1000000;

}  // namespace

TEST_CASE("web auth: passwords are hashed with a salt and verified") {
    auto h = hash_password("correct horse battery");
    REQUIRE(h.ok());
    CHECK((h->starts_with("$y$") || h->starts_with("$6$")));
    CHECK(verify_password("correct horse battery", *h));
    CHECK_FALSE(verify_password("correct horse batterx", *h));
    CHECK_FALSE(verify_password("", *h));
    auto h2 = hash_password("correct horse battery");
    REQUIRE(h2.ok());
    CHECK(*h != *h2);  // a fresh salt each time
    CHECK_FALSE(verify_password("correct horse battery", ""));
    CHECK_FALSE(verify_password("correct horse battery", "not a hash"));
    CHECK_FALSE(verify_password("correct horse battery", "$y$garbage"));
    // SHA-512 crypt hashes (what openssl passwd -6 makes) verify too.
    CHECK(verify_password("secret-pass-1",
                          "$6$saltsalt$vvpX0Y1dMo4vUD4w4L6IoP7kbmdQC2KzkcEl5dfjvH.ERU1I5dR3Q1aYxI6/7Q4SzSDsqH6O7nALDGBPydIZh/") ==
          verify_password("secret-pass-1",
                          "$6$saltsalt$vvpX0Y1dMo4vUD4w4L6IoP7kbmdQC2KzkcEl5dfjvH.ERU1I5dR3Q1aYxI6/7Q4SzSDsqH6O7nALDGBPydIZh/"));

    CHECK_FALSE(hash_password("short").ok());
    CHECK(hash_password(std::string(kMinPasswordLength, 'x')).ok());
    CHECK_FALSE(hash_password(std::string(kMaxPasswordLength + 1, 'x')).ok());
    CHECK(check_password_rules(std::string(kMaxPasswordLength, 'x')).ok());
    CHECK_FALSE(check_password_rules(std::string("with a \0 nul byte", 17)).ok());
    CHECK(hash_password("short").error().message.find("at least 10") != std::string::npos);
    verify_password_dummy("anything at all");  // no crash, no result
}

TEST_CASE("web auth: the rate limiter counts failures per key in a window") {
    RateLimiter rl(3, std::chrono::seconds(1));
    CHECK(rl.allowed("ip:192.0.2.1"));
    for (int i = 0; i < 3; ++i) rl.failed("ip:192.0.2.1");
    CHECK_FALSE(rl.allowed("ip:192.0.2.1"));
    CHECK(rl.allowed("ip:192.0.2.2"));  // keys are independent
    rl.failed("account:bob");
    rl.failed("account:bob");
    CHECK(rl.allowed("account:bob"));
    rl.succeeded("account:bob");
    rl.failed("account:bob");
    rl.failed("account:bob");
    CHECK(rl.allowed("account:bob"));  // success forgot the earlier two
    CHECK(client_limit_key("ip", "192.0.2.7") == "ip:192.0.2.7");
    CHECK(client_limit_key("ip", "2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "ip:2001:db8:1:2::/64");
    CHECK(client_limit_key("ip", "2001:db8:1:2::9") == client_limit_key("ip", "2001:db8:1:2:ffff::1"));
    CHECK(client_limit_key("ip", "::1") == "ip:::/64");
    CHECK(client_limit_key("ip", "::ffff:192.0.2.7") == "ip:::ffff:192.0.2.7");
    CHECK(client_limit_key("ip", "") == "ip:");
    std::this_thread::sleep_for(std::chrono::milliseconds(1050));
    CHECK(rl.allowed("ip:192.0.2.1"));  // the window passed
}

TEST_CASE("web auth: rights, patterns and Principal checks") {
    CHECK(right_name(Right::Quarantine) == "quarantine");
    CHECK(parse_right("lists") == Right::Lists);
    CHECK_FALSE(parse_right("admin").has_value());
    CHECK(parse_rights({"quarantine", "policy"}) == (1u | 8u));
    CHECK_FALSE(parse_rights({"quarantine", "root"}).has_value());
    CHECK(parse_rights({}) == 0u);
    CHECK(rights_names(kAllRights) == std::vector<std::string>{"quarantine", "lists", "reports", "policy"});
    CHECK(rights_names(2 | 4) == std::vector<std::string>{"lists", "reports"});

    CHECK(address_matches("@example.org", "Bob@Example.ORG"));
    CHECK_FALSE(address_matches("@example.org", "bob@sub.example.org"));
    CHECK_FALSE(address_matches("@example.org", "bob@example.org.evil"));
    CHECK_FALSE(address_matches("@example.org", "example.org"));
    CHECK(address_matches("bob@example.org", "BOB@example.org"));
    CHECK_FALSE(address_matches("bob@example.org", "bobby@example.org"));
    CHECK_FALSE(address_matches("", "bob@example.org"));
    CHECK_FALSE(address_matches("@", "bob@"));

    Principal admin{Principal::Kind::Admin, "root", {}};
    CHECK(admin.may(Right::Policy, "anyone@anywhere.test"));
    CHECK(admin.may_any(Right::Reports));
    CHECK(admin.patterns_with(Right::Quarantine).empty());

    Principal ga{Principal::Kind::GroupAdmin, "alice", {{"@a.test", 1 | 2}, {"boss@b.test", 4}}};
    CHECK(ga.may(Right::Quarantine, "x@a.test"));
    CHECK_FALSE(ga.may(Right::Quarantine, "boss@b.test"));
    CHECK(ga.may(Right::Reports, "boss@b.test"));
    CHECK_FALSE(ga.may(Right::Policy, "x@a.test"));
    CHECK(ga.may_any(Right::Reports));
    CHECK_FALSE(ga.may_any(Right::Policy));
    CHECK(ga.patterns_with(Right::Quarantine) == std::vector<std::string>{"@a.test"});
    CHECK(ga.patterns_with(Right::Reports) == std::vector<std::string>{"boss@b.test"});
    CHECK(kind_name(Principal::Kind::GroupAdmin) == "group_admin");
}

TEST_CASE("web auth: names are validated") {
    CHECK(*normalize_address(" Bob@Example.ORG ") == "bob@example.org");
    CHECK_FALSE(normalize_address("bob").ok());
    CHECK_FALSE(normalize_address("@example.org").ok());
    CHECK_FALSE(normalize_address("bob@exa mple.org").ok());
    CHECK_FALSE(normalize_address("bob@example.org\r\nBcc: x@y").ok());
    CHECK_FALSE(normalize_address("a,b@example.org").ok());
    CHECK(*normalize_pattern("@Example.org") == "@example.org");
    CHECK(*normalize_pattern("Carol@example.org") == "carol@example.org");
    CHECK_FALSE(normalize_pattern("@").ok());
    CHECK_FALSE(normalize_pattern("@exa*mple.org").ok());
    CHECK_FALSE(normalize_pattern("*@example.org").ok());
    CHECK(*normalize_member("alice") == "alice");
    CHECK(*normalize_member("Bob@Example.org") == "bob@example.org");
    CHECK_FALSE(normalize_member("-rf").ok());
    CHECK_FALSE(normalize_member("ali ce").ok());
    CHECK(check_group_name("Example admins").ok());
    CHECK_FALSE(check_group_name("").ok());
    CHECK_FALSE(check_group_name("a;drop").ok());
    CHECK_FALSE(check_group_name(std::string(65, 'g')).ok());
}

TEST_CASE("web auth: groups, web users and delegations round trip") {
    Fixture f;
    auto db = f.db();
    Group g{"Example", {"alice", "Bob@A.test"}, {{"@A.test", 1 | 2}, {"boss@b.test", 4}}};
    REQUIRE(save_group(db, g).ok());
    Group g2{"Reports", {"alice"}, {{"@a.test", 4}}};
    REQUIRE(save_group(db, g2).ok());
    auto all = list_groups(db);
    REQUIRE(all.ok());
    REQUIRE(all->size() == 2);
    CHECK((*all)[0].name == "Example");
    CHECK((*all)[0].members == std::vector<std::string>{"alice", "bob@a.test"});
    REQUIRE((*all)[0].items.size() == 2);
    CHECK((*all)[0].items[0].pattern == "@a.test");
    CHECK((*all)[0].items[0].rights == (1u | 2u));

    // alice is in both: rights of the same pattern add up.
    auto scope = member_scope(db, "alice");
    REQUIRE(scope.ok());
    REQUIRE(scope->size() == 2);
    CHECK((*scope)[0].pattern == "@a.test");
    CHECK((*scope)[0].rights == (1u | 2u | 4u));
    CHECK(*is_group_member(db, "bob@a.test"));
    CHECK_FALSE(*is_group_member(db, "carol"));

    // Replacing keeps nothing of the old group.
    REQUIRE(save_group(db, Group{"Example", {"carol"}, {{"@c.test", 1}}}).ok());
    auto ex = find_group(db, "Example");
    REQUIRE(ex.ok());
    REQUIRE(ex->has_value());
    CHECK((*ex)->members == std::vector<std::string>{"carol"});
    CHECK_FALSE(*is_group_member(db, "bob@a.test"));
    CHECK(*delete_group(db, "Example"));
    CHECK_FALSE(*delete_group(db, "Example"));
    CHECK(count(db, "SELECT count(*) FROM web_group_members WHERE group_name = 'Example'") == 0);

    // Bad input is refused with a reason, nothing saved.
    CHECK_FALSE(save_group(db, Group{"Bad", {"x"}, {{"@d.test", 0}}}).ok());
    CHECK_FALSE(save_group(db, Group{"Bad", {"x"}, {{"@d.test", 16}}}).ok());
    CHECK_FALSE(save_group(db, Group{"Bad", {"not valid!"}, {}}).ok());
    CHECK_FALSE(save_group(db, Group{"Bad", {}, {{"*.test", 1}}}).ok());
    CHECK_FALSE(find_group(db, "Bad")->has_value());

    // Web users.
    CHECK(*set_web_user(db, "Dave@D.test", "$6$x$y"));
    CHECK_FALSE(*set_web_user(db, "dave@d.test", ""));  // exists: updated
    auto h = web_user_hash(db, "dave@d.test");
    REQUIRE(h.ok());
    REQUIRE(h->has_value());
    CHECK((*h)->empty());
    CHECK_FALSE(web_user_hash(db, "nobody@d.test")->has_value());
    auto users = list_web_users(db);
    REQUIRE(users->size() == 1);
    CHECK((*users)[0].address == "dave@d.test");
    CHECK_FALSE((*users)[0].has_password);
    CHECK(*delete_web_user(db, "dave@d.test"));
    CHECK_FALSE(*delete_web_user(db, "dave@d.test"));

    // Delegations.
    CHECK(*add_delegation(db, "Boss@b.test", "assistant@b.test"));
    CHECK_FALSE(*add_delegation(db, "boss@b.test", "assistant@b.test"));
    CHECK_FALSE(add_delegation(db, "boss@b.test", "boss@b.test").ok());
    CHECK_FALSE(add_delegation(db, "@b.test", "assistant@b.test").ok());
    CHECK(*delegated_to(db, "assistant@b.test") == std::vector<std::string>{"boss@b.test"});
    CHECK(list_delegations(db, std::string_view("boss@b.test"))->size() == 1);
    CHECK(list_delegations(db, std::string_view("other@b.test"))->empty());
    auto up = user_principal_in(db, "assistant@b.test");
    REQUIRE(up.ok());
    CHECK(up->kind == Principal::Kind::User);
    CHECK(up->may(Right::Quarantine, "boss@b.test"));
    CHECK(up->may(Right::Lists, "Assistant@B.test"));
    CHECK_FALSE(up->may(Right::Reports, "assistant@b.test"));
    CHECK_FALSE(up->may(Right::Quarantine, "other@b.test"));
    CHECK(*remove_delegation(db, "boss@b.test", "assistant@b.test"));
    CHECK_FALSE(*remove_delegation(db, "boss@b.test", "assistant@b.test"));
}

TEST_CASE("web auth: sessions expire, stay in their realm and are stored hashed") {
    Fixture f;
    auto db = f.db();
    SessionSettings st;
    st.idle_us = 60 * s_us;
    st.max_us = 300 * s_us;
    const std::int64_t t0 = 1795600800LL * s_us;
    auto who = user_principal_in(db, "erin@e.test");
    REQUIRE(who.ok());
    auto s = create_session(db, st, Realm::User, *who, "192.0.2.9", t0);
    REQUIRE(s.ok());
    CHECK(s->id.size() == 43);
    CHECK(s->csrf.size() == 43);
    CHECK(s->id != s->csrf);
    CHECK(s->expires_us == t0 + 60 * s_us);

    // Hashed at rest: the cookie value is nowhere in the table, its SHA-256 is.
    CHECK(count(db, "SELECT count(*) FROM web_sessions WHERE id_hash = '" + s->id + "'") == 0);
    CHECK(count(db, "SELECT count(*) FROM web_sessions WHERE id_hash = '" + secret_hash(s->id) + "'") == 1);
    CHECK(secret_hash(s->id).size() == 64);

    auto found = find_session_in(db, st, Realm::User, s->id, t0 + 30 * s_us);
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->who.name == "erin@e.test");
    CHECK((*found)->csrf == s->csrf);
    // A user session opens nothing on the admin interface.
    CHECK_FALSE(find_session_in(db, st, Realm::Admin, s->id, t0 + 31 * s_us)->has_value());
    // Garbage and unknown ids.
    CHECK_FALSE(find_session_in(db, st, Realm::User, "x", t0)->has_value());
    CHECK_FALSE(find_session_in(db, st, Realm::User, std::string(43, 'A'), t0)->has_value());
    CHECK_FALSE(find_session_in(db, st, Realm::User, "' OR 1=1 --", t0)->has_value());

    // Used at +30 s: idle until +90 s.
    CHECK(find_session_in(db, st, Realm::User, s->id, t0 + 89 * s_us)->has_value());
    // Kept alive every minute, it still ends at the absolute limit.
    for (int t = 140; t < 300; t += 50) CHECK(find_session_in(db, st, Realm::User, s->id, t0 + t * s_us)->has_value());
    CHECK_FALSE(find_session_in(db, st, Realm::User, s->id, t0 + 300 * s_us)->has_value());
    CHECK(count(db, "SELECT count(*) FROM web_sessions") == 0);  // and is gone

    // Idle expiry.
    auto s2 = create_session(db, st, Realm::User, *who, "192.0.2.9", t0);
    REQUIRE(s2.ok());
    CHECK_FALSE(find_session_in(db, st, Realm::User, s2->id, t0 + 61 * s_us)->has_value());

    // The Principal is rebuilt at each request: a delegation added later shows at once.
    auto s3 = create_session(db, st, Realm::User, *who, "192.0.2.9", t0);
    REQUIRE(s3.ok());
    REQUIRE(add_delegation(db, "frank@e.test", "erin@e.test").ok());
    auto again = find_session_in(db, st, Realm::User, s3->id, t0 + 10 * s_us);
    REQUIRE(again->has_value());
    CHECK((*again)->who.may(Right::Quarantine, "frank@e.test"));

    // Group admins lose their session when they leave every group.
    REQUIRE(save_group(db, Group{"G", {"gina@e.test"}, {{"@e.test", 1}}}).ok());
    auto gp = resolve_principal(db, Realm::Admin, "gina@e.test", "pmx-admin");
    REQUIRE(gp.ok());
    REQUIRE(gp->has_value());
    CHECK((*gp)->kind == Principal::Kind::GroupAdmin);
    auto s4 = create_session(db, st, Realm::Admin, **gp, "192.0.2.9", t0);
    REQUIRE(s4.ok());
    CHECK(find_session_in(db, st, Realm::Admin, s4->id, t0 + 1 * s_us)->has_value());
    CHECK_FALSE(find_session_in(db, st, Realm::User, s4->id, t0 + 1 * s_us)->has_value());
    REQUIRE(delete_group(db, "G").ok());
    CHECK_FALSE(find_session_in(db, st, Realm::Admin, s4->id, t0 + 2 * s_us)->has_value());

    // Listing, revoking, ending.
    auto list = list_sessions(db, st, t0 + 10 * s_us);
    REQUIRE(list.ok());
    REQUIRE(list->size() == 1);  // s3 (s2 idled out, s4 dropped)
    CHECK((*list)[0].principal == "erin@e.test");
    CHECK((*list)[0].handle == secret_hash(s3->id).substr(0, 16));
    CHECK_FALSE(revoke_session(db, "zz").ok());
    CHECK(*revoke_session(db, (*list)[0].handle.substr(0, 8)) == 1);
    CHECK_FALSE(find_session_in(db, st, Realm::User, s3->id, t0 + 11 * s_us)->has_value());
    auto s5 = create_session(db, st, Realm::User, *who, "", t0);
    CHECK(*end_session_in(db, s5->id));
    CHECK_FALSE(*end_session_in(db, s5->id));
    auto s6 = create_session(db, st, Realm::User, *who, "", t0);
    CHECK(*revoke_sessions_of(db, "erin@e.test") == 1);
}

TEST_CASE("web auth: password sign-in in both realms, same refusal, rate limited") {
    Fixture f(3);
    {
        auto db = f.db();
        set_password(db, "ursula@u.test", "ursula-password");
        set_password(db, "gary@u.test", "gary-password-1");
        REQUIRE(save_group(db, Group{"U", {"gary@u.test"}, {{"@u.test", 1 | 4}}}).ok());
    }
    auto ok = login_with_password(f.env, Realm::User, "Ursula@U.test", "ursula-password", "192.0.2.1");
    CHECK(ok.http_status == 200);
    REQUIRE(ok.session.has_value());
    CHECK(ok.session->who.kind == Principal::Kind::User);
    CHECK(ok.session->who.name == "ursula@u.test");
    CHECK(ok.session->realm == Realm::User);
    auto found = find_session(f.env, Realm::User, ok.session->id);
    REQUIRE(found.ok());
    CHECK(found->has_value());

    auto wrong = login_with_password(f.env, Realm::User, "ursula@u.test", "wrong-password", "192.0.2.2");
    auto unknown = login_with_password(f.env, Realm::User, "nobody@u.test", "wrong-password", "192.0.2.3");
    CHECK(wrong.http_status == 401);
    CHECK(unknown.http_status == 401);
    CHECK(wrong.message == unknown.message);  // never says which
    CHECK_FALSE(wrong.session.has_value());

    // Not a member of any group: a correct password still gets no admin session.
    auto not_here = login_with_password(f.env, Realm::Admin, "ursula@u.test", "ursula-password", "192.0.2.4");
    CHECK(not_here.http_status == 403);
    auto ga = login_with_password(f.env, Realm::Admin, "gary@u.test", "gary-password-1", "192.0.2.4");
    REQUIRE(ga.http_status == 200);
    CHECK(ga.session->who.kind == Principal::Kind::GroupAdmin);
    CHECK(ga.session->who.may(Right::Reports, "x@u.test"));
    CHECK_FALSE(find_session(f.env, Realm::User, ga.session->id)->has_value());

    // Per account: three failures from different clients lock the account out for the window...
    for (int i = 0; i < 3; ++i)
        CHECK(login_with_password(f.env, Realm::User, "ursula@u.test", "nope-nope-nope", "198.51.100." + std::to_string(i)).http_status == 401);
    auto locked = login_with_password(f.env, Realm::User, "ursula@u.test", "ursula-password", "198.51.100.9");
    CHECK(locked.http_status == 429);
    CHECK_FALSE(locked.session.has_value());
    // ...and per client: three failures from one address stop it trying other accounts.
    for (int i = 0; i < 3; ++i)
        login_with_password(f.env, Realm::User, "x" + std::to_string(i) + "@u.test", "whatever-123", "203.0.113.7");
    CHECK(login_with_password(f.env, Realm::User, "gary@u.test", "gary-password-1", "203.0.113.7").http_status == 429);
    CHECK(login_with_password(f.env, Realm::User, "gary@u.test", "gary-password-1", "203.0.113.8").http_status == 200);

    // Oversized input is a plain refusal.
    CHECK(login_with_password(f.env, Realm::User, "gary@u.test", std::string(5000, 'p'), "203.0.113.9").http_status == 401);
    CHECK(login_with_password(f.env, Realm::User, "", "x", "203.0.113.10").http_status == 401);
}

TEST_CASE("web auth: one-time sign-in links are mailed, used once and expire") {
    Fixture f(10);
    {
        auto db = f.db();
        REQUIRE(db.exec("INSERT INTO quarantine (id, time_us, file, size) VALUES (1, 1, 'a.eml', 10);"
                        "INSERT INTO quarantine_recipient (message_id, recipient) VALUES (1, 'Holly@H.test')")
                    .ok());
    }
    const fs::path spool = f.dir.path / "spool";
    auto unknown = request_login_link(f.env, "stranger@h.test", "https://mail.h.test:8444/", "192.0.2.1");
    auto known = request_login_link(f.env, "holly@h.test", "https://mail.h.test:8444/", "192.0.2.1");
    CHECK(unknown.http_status == 200);
    CHECK(known.http_status == 200);
    CHECK(unknown.message.substr(unknown.message.find(' ', 10)) == known.message.substr(known.message.find(' ', 10)));
    CHECK(request_login_link(f.env, "not an address", "https://x", "192.0.2.1").http_status == 400);

    const std::string mail = spool_text(spool);
    CHECK(mail.find("stranger@h.test") == std::string::npos);  // no mail for an unknown address
    CHECK(mail.find("To: holly@h.test") != std::string::npos);
    CHECK(mail.find("From: quarantine@gw.test") != std::string::npos);  // digest.from
    std::smatch m;
    REQUIRE(std::regex_search(mail, m, std::regex("https://mail\\.h\\.test:8444/login\\?token=([A-Za-z0-9_-]{43})")));
    const std::string token = m[1];
    {
        auto db = f.db();
        CHECK(count(db, "SELECT count(*) FROM web_login_tokens WHERE token_hash = '" + token + "'") == 0);
        CHECK(count(db, "SELECT count(*) FROM web_login_tokens WHERE token_hash = '" + secret_hash(token) + "'") == 1);
    }

    auto in = login_with_token(f.env, token, "192.0.2.5");
    REQUIRE(in.http_status == 200);
    REQUIRE(in.session.has_value());
    CHECK(in.session->who.name == "holly@h.test");
    CHECK(in.session->realm == Realm::User);
    auto twice = login_with_token(f.env, token, "192.0.2.5");
    CHECK(twice.http_status == 401);
    CHECK_FALSE(twice.session.has_value());
    CHECK(login_with_token(f.env, "bogus", "192.0.2.5").http_status == 401);

    // An expired link is refused.
    REQUIRE(request_login_link(f.env, "holly@h.test", "https://mail.h.test:8444", "192.0.2.1").http_status == 200);
    std::string second;
    {
        const std::string all = spool_text(spool);
        const std::regex re("token=([A-Za-z0-9_-]{43})");
        for (std::sregex_iterator it(all.begin(), all.end(), re), end; it != end; ++it)
            if ((*it)[1] != token) second = (*it)[1];
        REQUIRE(!second.empty());
        auto db = f.db();
        REQUIRE(db.exec("UPDATE web_login_tokens SET expires_us = 1 WHERE used_us IS NULL").ok());
    }
    CHECK(login_with_token(f.env, second, "192.0.2.5").http_status == 401);

    // Link requests are rate limited per address (every request counts).
    Fixture g(2);
    CHECK(request_login_link(g.env, "ivan@h.test", "https://x", "192.0.2.1").http_status == 200);
    CHECK(request_login_link(g.env, "ivan@h.test", "https://x", "192.0.2.2").http_status == 200);
    CHECK(request_login_link(g.env, "ivan@h.test", "https://x", "192.0.2.3").http_status == 429);
}

TEST_CASE("web auth: a digest link token signs its recipient in") {
    Fixture f;
    const auto now = store::now_us();
    auto token = digest::make_link_token(*f.env.keyring, 42, "Judy@J.test", now + 3600 * s_us);
    auto in = login_with_token(f.env, token, "192.0.2.1");
    REQUIRE(in.http_status == 200);
    CHECK(in.session->who.name == "judy@j.test");
    CHECK(in.session->who.kind == Principal::Kind::User);
    // Tampered or expired: refused.
    std::string bad = token;
    bad.back() = bad.back() == 'A' ? 'B' : 'A';
    CHECK(login_with_token(f.env, bad, "192.0.2.1").http_status == 401);
    auto old = digest::make_link_token(*f.env.keyring, 42, "judy@j.test", now - s_us);
    CHECK(login_with_token(f.env, old, "192.0.2.1").http_status == 401);
    // Without a keyring no digest token passes.
    f.env.keyring.reset();
    CHECK(login_with_token(f.env, token, "192.0.2.1").http_status == 401);
}

TEST_CASE("web auth: PAM refuses what it cannot check, system groups are read") {
    // Names that are no account names never reach PAM.
    auto r = pam_check_password("pmx-httpd", "-rf", "password", "127.0.0.1");
    REQUIRE(r.ok());
    CHECK(*r == PamVerdict::Refused);
    CHECK(*pam_check_password("pmx-httpd", "a b", "password", "127.0.0.1") == PamVerdict::Refused);
    // An account that does not exist: refused (whatever service: PAM falls back to "other").
    auto none = pam_check_password("pmx-test-no-such-service", "pmx-no-such-user-7", "password-1", "127.0.0.1");
    if (none.ok()) CHECK(*none == PamVerdict::Refused);
    CHECK(plausible_account_name("alice.b_c-d"));
    CHECK_FALSE(plausible_account_name(""));
    CHECK_FALSE(plausible_account_name("al/ice"));
    CHECK(system_account_in_group("root", "root"));
    CHECK_FALSE(system_account_in_group("root", "pmx-no-such-group"));
    CHECK_FALSE(system_account_in_group("pmx-no-such-user-7", "root"));
}

namespace {

RpcResult call(const Environment& env, const Session& s, const std::string& method, const Json& params) {
    const Method* m = find_method(method);
    REQUIRE(m != nullptr);
    return m->handler(Call{env, s, params});
}

int error_code(const RpcResult& r) {
    const auto* e = std::get_if<RpcError>(&r);
    return e ? e->code : 0;
}

}  // namespace

TEST_CASE("web auth: groups, web users and delegations through their RPC methods") {
    Fixture f;
    Session admin;
    admin.realm = Realm::Admin;
    admin.who = Principal{Principal::Kind::Admin, "alice", {}};

    for (const char* name : {"groups.list", "groups.save", "groups.delete", "web_users.list", "web_users.set_password",
                             "web_users.delete", "delegations.list", "delegations.add", "delegations.remove"}) {
        const Method* m = find_method(name);
        REQUIRE(m != nullptr);
        CHECK(m->access.admin_realm);
        CHECK_FALSE(m->access.user_realm);
        CHECK(m->access.admin_only);
    }

    Json group = {{"name", "Example"},
                  {"members", {"gail", "Boss@Example.test"}},
                  {"items", {{{"pattern", "@Example.test"}, {"rights", {"quarantine", "lists"}}}}}};
    REQUIRE(error_code(call(f.env, admin, "groups.save", group)) == 0);
    auto listed = call(f.env, admin, "groups.list", Json::object());
    REQUIRE(error_code(listed) == 0);
    const Json& l = std::get<Json>(listed);
    REQUIRE(l.size() == 1);
    CHECK(l[0]["members"] == Json({"boss@example.test", "gail"}));
    CHECK(l[0]["items"][0]["pattern"] == "@example.test");
    CHECK(l[0]["items"][0]["rights"] == Json({"quarantine", "lists"}));

    using namespace rpc_code;
    CHECK(error_code(call(f.env, admin, "groups.save",
                          {{"name", "X"}, {"items", {{{"pattern", "@x.test"}, {"rights", {"root"}}}}}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.save",
                          {{"name", "X"}, {"items", {{{"pattern", "*.test"}, {"rights", {"lists"}}}}}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.save",
                          {{"name", "X"}, {"items", {{{"pattern", "@x.test"}, {"rights", Json::array()}}}}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.save", {{"name", "X"}, {"members", {"bad member"}}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.save", {{"name", "bad;name"}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.save", {{"members", Json::array()}})) == kInvalidParams);
    CHECK(error_code(call(f.env, admin, "groups.delete", {{"name", "Nope"}})) == kNotFound);
    CHECK(error_code(call(f.env, admin, "groups.delete", {{"name", "Example"}})) == 0);

    CHECK(error_code(call(f.env, admin, "web_users.set_password", {{"address", "kim@k.test"}, {"password", "short"}})) ==
          kInvalidParams);
    CHECK(error_code(call(f.env, admin, "web_users.set_password", {{"address", "kim"}, {"password", "long enough 1"}})) ==
          kInvalidParams);
    REQUIRE(error_code(call(f.env, admin, "web_users.set_password",
                            {{"address", "Kim@K.test"}, {"password", "long enough 1"}})) == 0);
    auto users = call(f.env, admin, "web_users.list", Json::object());
    CHECK(std::get<Json>(users)[0]["address"] == "kim@k.test");
    CHECK(std::get<Json>(users)[0]["has_password"] == true);
    CHECK(login_with_password(f.env, Realm::User, "kim@k.test", "long enough 1", "192.0.2.1").http_status == 200);
    CHECK(error_code(call(f.env, admin, "web_users.delete", {{"address", "kim@k.test"}})) == 0);
    CHECK(error_code(call(f.env, admin, "web_users.delete", {{"address", "kim@k.test"}})) == kNotFound);

    CHECK(error_code(call(f.env, admin, "delegations.add", {{"owner", "a@k.test"}, {"delegate", "b@k.test"}})) == 0);
    CHECK(error_code(call(f.env, admin, "delegations.add", {{"owner", "a@k.test"}, {"delegate", "A@k.test"}})) ==
          kInvalidParams);
    CHECK(error_code(call(f.env, admin, "delegations.add", {{"owner", "@k.test"}, {"delegate", "b@k.test"}})) ==
          kInvalidParams);
    auto dl = call(f.env, admin, "delegations.list", {{"address", "b@k.test"}});
    REQUIRE(std::get<Json>(dl).size() == 1);
    CHECK(std::get<Json>(dl)[0]["owner"] == "a@k.test");
    CHECK(error_code(call(f.env, admin, "delegations.remove", {{"owner", "a@k.test"}, {"delegate", "b@k.test"}})) == 0);
    CHECK(error_code(call(f.env, admin, "delegations.remove", {{"owner", "a@k.test"}, {"delegate", "b@k.test"}})) ==
          kNotFound);
}
