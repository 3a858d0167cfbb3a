// The admin RPC methods (lib/web/rpc_admin*.cpp) and the CLI runner they use (lib/web/cli_runner.cpp).
// The runner is tested on tiny shell scripts as the program under test; the methods on a fake
// `pmx` script that logs its argv and prints canned JSON, to check that bad parameters never run
// anything, that good ones become exactly the argv expected, and who may call what.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "temp_dir.hpp"
#include "web/cli_runner.hpp"
#include "web/rpc.hpp"

using namespace pmx;
using namespace pmx::web;
using Json = nlohmann::json;

namespace {

std::filesystem::path script(const test::TempDir& dir, const std::string& name, const std::string& body) {
    auto p = dir.write(name, "#!/bin/sh\n" + body);
    ::chmod(p.c_str(), 0755);
    return p;
}

Environment env_with(const std::filesystem::path& cli, bool user_bus = false) {
    Environment env;
    env.config = std::make_shared<const config::Snapshot>(*config::load_files({}));
    env.layout.config_dir = "/nonexistent/etc-pmx";
    env.layout.vendor_dir = "/nonexistent/usr-share-pmx";
    env.user_bus = user_bus;
    env.pmx_cli = cli;
    return env;
}

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace

TEST_CASE("cli_runner: argv without a shell, stdout, stderr and exit code") {
    test::TempDir dir("pmx-web-admin");
    auto prog = script(dir, "echo.sh", "printf '%s\\n' \"$@\"\necho oops >&2\nexit 3\n");
    auto env = env_with(prog);
    auto r = run_pmx(env, {"status", "$(touch /tmp/pmx-never)", "a b", "--", "-x"});
    REQUIRE(r);
    CHECK(r->exit_code == 3);
    CHECK(r->out == "status\n$(touch /tmp/pmx-never)\na b\n--\n-x\n");
    CHECK(r->err == "oops\n");

    env.user_bus = true;
    r = run_pmx(env, {"status"});
    REQUIRE(r);
    CHECK(r->out == "--user\nstatus\n");
}

TEST_CASE("cli_runner: environment, stdin and signals") {
    test::TempDir dir("pmx-web-admin");
    auto prog = script(dir, "env.sh",
                       "echo \"cfg=$PMX_CONFIG_DIR vendor=$PMX_VENDOR_DIR notify=${NOTIFY_SOCKET:-unset}\"\n"
                       "cat\n"
                       "[ \"$1\" = kill ] && kill -9 $$\nexit 0\n");
    ::setenv("NOTIFY_SOCKET", "/run/nothing", 1);
    auto env = env_with(prog);
    auto r = run_pmx(env, {});
    ::unsetenv("NOTIFY_SOCKET");
    REQUIRE(r);
    // The layout of the request's Environment, not the daemon's variables; stdin is /dev/null (cat ends).
    CHECK(r->out == "cfg=/nonexistent/etc-pmx vendor=/nonexistent/usr-share-pmx notify=unset\n");
    CHECK(r->exit_code == 0);

    r = run_pmx(env, {"kill"});
    REQUIRE(r);
    CHECK(r->exit_code == 128 + 9);

    // A descriptor the daemon holds without O_CLOEXEC stays with the daemon.
    auto fds = script(dir, "fds.sh", "ls /proc/$$/fd | sort -n | tr '\\n' ' '\n");
    int leaky = ::open("/dev/null", O_RDONLY);  // no O_CLOEXEC
    REQUIRE(leaky > 2);
    r = run_pmx(env_with(fds), {});
    ::close(leaky);
    REQUIRE(r);
    CHECK(r->out.find(" " + std::to_string(leaky) + " ") == std::string::npos);
}

TEST_CASE("cli_runner: output caps") {
    test::TempDir dir("pmx-web-admin");
    // stderr beyond 1 MiB is cut; the run still succeeds.
    auto noisy = script(dir, "noisy.sh", "head -c 3000000 /dev/zero | tr '\\0' e >&2\necho ok\n");
    auto r = run_pmx(env_with(noisy), {});
    REQUIRE(r);
    CHECK(r->out == "ok\n");
    CHECK(r->err.size() == (1u << 20));
    // stdout beyond 16 MiB: stopped, an error (half an answer is no answer).
    auto flood = script(dir, "flood.sh", "head -c 20000000 /dev/zero\necho never >&2\n");
    auto f = run_pmx(env_with(flood), {});
    REQUIRE_FALSE(f);
    CHECK(f.error().message.find("more than 16 MiB") != std::string::npos);
}

TEST_CASE("cli_runner: the deadline kills the command and what it started") {
    test::TempDir dir("pmx-web-admin");
    auto marker = dir.path / "grandchild-survived";
    auto slow = script(dir, "slow.sh", "(sleep 2; touch '" + marker.string() + "') &\nsleep 30\n");
    auto began = std::chrono::steady_clock::now();
    auto r = run_pmx(env_with(slow), {"x"}, std::chrono::milliseconds(300));
    auto took = std::chrono::steady_clock::now() - began;
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("did not finish within 0.3 s and was killed") != std::string::npos);
    CHECK(took < std::chrono::seconds(10));  // not the 30 s of the script (no timing assertion beyond that)
    // The whole process group went: the background child never gets to touch its file.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    CHECK_FALSE(std::filesystem::exists(marker));

    auto missing = run_pmx(env_with(dir.path / "no-such-pmx"), {});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().message.find("Failed to run") != std::string::npos);
}

TEST_CASE("cli_runner: runs side by side from several threads") {
    test::TempDir dir("pmx-web-admin");
    auto prog = script(dir, "id.sh", "sleep 0.2\necho \"$1\"\necho \"err $1\" >&2\nexit $1\n");
    auto env = env_with(prog);
    std::vector<std::thread> threads;
    std::vector<int> got(8, -1);
    std::vector<std::string> outs(8);
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            auto r = run_pmx(env, {std::to_string(i)});
            if (r) {
                got[i] = r->exit_code;
                outs[i] = r->out + r->err;
            }
        });
    for (auto& t : threads) t.join();
    for (int i = 0; i < 8; ++i) {
        CHECK(got[i] == i);
        CHECK(outs[i] == fmt::format("{}\nerr {}\n", i, i));
    }
}

// ---- the methods ------------------------------------------------------------------------------

namespace {

// A fake pmx: logs each call's argv (one word a line, then "."), prints $FAKE_PMX_OUT (default {}),
// writes $FAKE_PMX_ERR to stderr and exits $FAKE_PMX_EXIT.
struct FakePmx {
    test::TempDir dir{"pmx-web-admin"};
    std::filesystem::path log = dir.path / "calls.log";
    std::filesystem::path prog;
    Environment env;
    Session session;
    std::optional<std::string> old_state_dir;

    FakePmx() {
        prog = script(dir, "pmx",
                      "{ printf '%s\\n' \"$@\"; echo .; } >> '" + log.string() + "'\n"
                      "printf '%s' \"${FAKE_PMX_OUT:-{\\}}\"\n"
                      "[ -n \"$FAKE_PMX_ERR\" ] && printf '%s\\n' \"$FAKE_PMX_ERR\" >&2\n"
                      "exit ${FAKE_PMX_EXIT:-0}\n");
        env = env_with(prog);
        // dashboard.summary counts held mail in the database: this test's own.
        if (const char* old = std::getenv("PMX_STATE_DIR")) old_state_dir = old;
        ::setenv("PMX_STATE_DIR", dir.path.c_str(), 1);
        session.realm = Realm::Admin;
        session.who.kind = Principal::Kind::Admin;
        session.who.name = "alice";
        ::unsetenv("FAKE_PMX_OUT");
        ::unsetenv("FAKE_PMX_ERR");
        ::unsetenv("FAKE_PMX_EXIT");
    }
    ~FakePmx() {
        if (old_state_dir) ::setenv("PMX_STATE_DIR", old_state_dir->c_str(), 1);
        else ::unsetenv("PMX_STATE_DIR");
        ::unsetenv("FAKE_PMX_OUT");
        ::unsetenv("FAKE_PMX_ERR");
        ::unsetenv("FAKE_PMX_EXIT");
    }

    static const Method& method(const std::string& name) {
        static MethodTable table = [] {
            MethodTable t;
            add_admin_methods(t);
            return t;
        }();
        auto it = std::find_if(table.begin(), table.end(), [&](const Method& m) { return m.name == name; });
        REQUIRE_MESSAGE(it != table.end(), name);
        return *it;
    }

    RpcResult call(const std::string& name, const Json& params) {
        Call c{env, session, params};
        return method(name).handler(c);
    }

    // The argv of each call so far, "--json status -- milter" style.
    std::vector<std::string> calls() const {
        std::vector<std::string> out;
        std::istringstream in(slurp(log));
        std::string line, cur;
        while (std::getline(in, line)) {
            if (line == ".") {
                out.push_back(cur);
                cur.clear();
            } else {
                cur += (cur.empty() ? "" : " ") + line;
            }
        }
        return out;
    }
};

int code_of(const RpcResult& r) {
    if (auto* e = std::get_if<RpcError>(&r)) return e->code;
    return 0;
}

}  // namespace

TEST_CASE("admin methods: invalid params are refused before anything runs") {
    FakePmx f;
    const std::vector<std::pair<std::string, Json>> bad = {
        {"dashboard.summary", {{"x", 1}}},
        {"services.status", {{"service", "postfix"}}},
        {"services.start", {{"service", "-milter"}}},
        {"services.stop", {{"service", 5}}},
        {"services.stop", {{"service", ""}}},
        {"services.restart", {{"service", "milter"}, {"now", true}}},
        {"config.show", {{"keys", {"no.such_key"}}}},
        {"config.show", {{"changed", true}, {"defaults", true}}},
        {"config.show", {{"changed", "yes"}}},
        {"config.set", {{"key", "milter.max_recipients"}}},
        {"config.set", {{"key", "--help"}, {"value", "1"}}},
        {"config.set", {{"key", "milter.max_recipients"}, {"value", "many"}}},
        {"config.set", {{"key", "av.notify_from"}, {"value", "a\nb"}}},
        {"config.set", {{"key", "av.notify_from"}, {"value", {{"a", 1}}}}},
        {"config.unset", {}},
        {"config.unset", {{"key", "-q"}}},
        {"jobs.list", {{"name", "x"}}},
        {"jobs.enable", {{"name", "-rf"}}},
        {"jobs.disable", {{"name", "Bad Name"}}},
        {"jobs.run", {}},
        {"jobs.set_schedule", {{"name", "db-check"}}},
        {"jobs.set_schedule", {{"name", "db-check"}, {"schedule", ""}}},
        {"jobs.set_schedule", {{"name", "db-check"}, {"schedule", {"daily", "a\tb"}}}},
        {"scheduler.start", {{"force", true}}},
        {"scheduler.stop", {{"x", 1}}},
        {"scheduler.status", {{"x", 1}}},
        {"queue.list", {{"state", "frozen"}}},
        {"queue.show", {{"id", "../../etc/passwd"}}},
        {"queue.show", {}},
        {"queue.flush", {{"all", true}}},
        {"queue.retry", {{"ids", {"-all-failed"}}}},
        {"queue.retry", {}},
        {"queue.delete", {{"ids", Json::array()}}},
        {"ipblock.list", {{"all", "yes"}}},
        {"ipblock.add", {{"address", "192.0.2.1/24"}}},
        {"ipblock.add", {{"address", "-192.0.2.1"}}},
        {"ipblock.add", {{"address", "192.0.2.1"}, {"ttl", "-5"}}},
        {"ipblock.add", {{"address", "192.0.2.1"}, {"reason", std::string(201, 'x')}}},
        {"ipblock.remove", {{"address", "example.org"}}},
        {"log.search", {{"verdict", "maybe"}}},
        {"log.search", {{"since", "last tuesday"}}},
        {"log.search", {{"limit", 0}}},
        {"log.search", {{"limit", "10"}}},
        {"log.search", {{"sender", "a\rb"}}},
        {"reports.list", {{"name", "verdicts"}}},
        {"reports.get", {{"name", "--help"}}},
        {"reports.get", {{"name", "verdicts"}, {"from", "yesterdayish"}}},
        {"reports.get", {{"name", "verdicts"}, {"by", "week"}}},
        {"reports.get", {{"name", "verdicts"}, {"limit", 5}}},
        {"policy.show", {{"file", "/etc/shadow"}}},
        {"policy.test", {}},
        {"policy.test", {{"message", "Subject: x\r\n\r\nhi\r\n"}, {"sender", "-x@example.org"}}},
        {"policy.test", {{"message", "Subject: x\r\n\r\nhi\r\n"}, {"recipients", {"not an address"}}}},
        {"policy.test", {{"message", "Subject: x\r\n\r\nhi\r\n"}, {"client_ip", "localhost"}}},
        {"policy.test", {{"message", "x"}, {"policy", "/tmp/evil.toml"}}},
    };
    for (const auto& [name, params] : bad) {
        CAPTURE(name);
        CAPTURE(params.dump());
        CHECK(code_of(f.call(name, params)) == rpc_code::kInvalidParams);
    }
    CHECK(f.calls().empty());
}

TEST_CASE("admin methods: argv as validated, values never taken as options") {
    FakePmx f;
    auto ok = [&](const std::string& name, const Json& params) {
        auto r = f.call(name, params);
        if (auto* e = std::get_if<RpcError>(&r)) FAIL_CHECK(name << ": " << e->message);
        return r;
    };
    ::setenv("FAKE_PMX_OUT", "[]", 1);
    ok("services.status", {});
    ok("services.start", {{"service", "pmx-milter.service"}});
    ok("services.stop", {{"service", "ipblock"}});
    ok("config.set", {{"key", "av.notify_from"}, {"value", "-x@example.org"}});
    ok("config.set", {{"key", "milter.max_recipients"}, {"value", 500}});
    ok("config.unset", {{"key", "milter.max_recipients"}});
    ok("config.show", {{"changed", true}, {"keys", "milter.max_recipients"}});
    ok("jobs.set_schedule", {{"name", "db-check"}, {"schedule", {"daily", "Mon *-*-* 04:00"}}});
    ok("jobs.run", {{"name", "db-check"}});
    ok("queue.retry", {{"ids", {"0123456789abcd-ef0123"}}});
    ok("ipblock.add", {{"address", "2001:DB8::/32"}, {"ttl", "2h"}, {"reason", "-- spam run"}});
    ok("log.search", {{"sender", "-rf"}, {"since", "-2h"}, {"verdict", "reject"}, {"limit", 10}});
    ok("reports.get", {{"name", "top-senders"}, {"from", "-3d"}, {"by", "day"}, {"limit", 5}});
    // A form's empty fields mean "not given".
    ok("log.search", {{"sender", ""}, {"recipient", ""}, {"verdict", ""}, {"since", ""}, {"until", ""}, {"limit", 100}});
    ok("ipblock.add", {{"address", "192.0.2.8"}, {"ttl", ""}, {"reason", ""}});
    ok("policy.test", {{"message", "From: a@example.org\r\nTo: b@example.org\r\n\r\nhi\r\n"},
                       {"recipients", {"b@example.org"}}, {"client_ip", "192.0.2.9"}, {"sender", "<>"}});

    auto calls = f.calls();
    std::vector<std::string> expected = {
        "--json status",
        "start --timeout=90 -- milter",
        "--json status -- milter",
        "stop --timeout=90 -- ipblockd",
        "--json status -- ipblockd",
        "config set -- av.notify_from -x@example.org",
        "--json config show -- av.notify_from",
        "config set -- milter.max_recipients 500",
        "--json config show -- milter.max_recipients",
        "config unset -- milter.max_recipients",
        "--json config show -- milter.max_recipients",
        "--json config show --changed -- milter.max_recipients",
        "jobs set --at=daily --at=Mon *-*-* 04:00 -- db-check",
        "--json jobs show --lines=0 -- db-check",
        "--json jobs run --timeout=600 -- db-check",
        "--json queue retry -- 0123456789abcd-ef0123",
        "--json ipblock add --ttl=2h --reason=-- spam run -- 2001:db8::/32",
        "--json log --sender=-rf --verdict=reject --since=-2h --limit=10",
        "--json report top-senders --from=-3d --by=day --limit=5",
        "--json log --limit=100",
        "--json ipblock add -- 192.0.2.8",
    };
    REQUIRE(calls.size() == expected.size() + 1);
    for (std::size_t i = 0; i < expected.size(); ++i) CHECK(calls[i] == expected[i]);
    // policy.test: the message went to a private file, removed after the run.
    const auto& last = calls.back();
    CHECK(last.starts_with("--json policy test --from=<> --to=b@example.org --ip=192.0.2.9 -- /"));
    auto path = last.substr(last.rfind(' ') + 1);
    CHECK_FALSE(std::filesystem::exists(path));
}

TEST_CASE("admin methods: the CLI's answer and its failures") {
    FakePmx f;
    ::setenv("FAKE_PMX_OUT", "[{\"network\":\"192.0.2.1\"}]", 1);
    auto r = f.call("ipblock.list", {});
    REQUIRE(std::holds_alternative<Json>(r));
    CHECK(std::get<Json>(r)[0]["network"] == "192.0.2.1");

    // A failed job run prints its JSON and exits 1: still the answer.
    ::setenv("FAKE_PMX_OUT", "{\"name\":\"db-check\",\"ok\":false}", 1);
    ::setenv("FAKE_PMX_EXIT", "1", 1);
    r = f.call("jobs.run", {{"name", "db-check"}});
    REQUIRE(std::holds_alternative<Json>(r));
    CHECK(std::get<Json>(r)["ok"] == false);

    // Other failures: the CLI's message, its "pmx: " prefix dropped.
    ::setenv("FAKE_PMX_OUT", "", 1);
    ::setenv("FAKE_PMX_ERR", "pmx: Failed to flush the queue: Access denied", 1);
    r = f.call("queue.flush", {});
    REQUIRE(std::holds_alternative<RpcError>(r));
    CHECK(std::get<RpcError>(r).code == rpc_code::kFailed);
    CHECK(std::get<RpcError>(r).message == "Failed to flush the queue: Access denied");

    ::setenv("FAKE_PMX_ERR", "pmx: No job named \"nope\" (see pmx jobs list)", 1);
    CHECK(code_of(f.call("jobs.enable", {{"name", "nope"}})) == rpc_code::kNotFound);
    ::setenv("FAKE_PMX_ERR", "pmx: No queue entry 0123456789abcd-ef0123", 1);
    CHECK(code_of(f.call("queue.show", {{"id", "0123456789abcd-ef0123"}})) == rpc_code::kNotFound);
    ::setenv("FAKE_PMX_EXIT", "2", 1);
    ::setenv("FAKE_PMX_ERR", "pmx: milter.max_recipients: above the maximum", 1);
    CHECK(code_of(f.call("config.set", {{"key", "milter.max_recipients"}, {"value", 5}})) == rpc_code::kInvalidParams);

    // Exit 0 without JSON is an internal error, not a silent {}.
    ::setenv("FAKE_PMX_EXIT", "0", 1);
    ::setenv("FAKE_PMX_OUT", "not json", 1);
    CHECK(code_of(f.call("reports.list", {})) == rpc_code::kInternal);
}

TEST_CASE("admin methods: dashboard.summary adds up the parts") {
    FakePmx f;
    // One canned answer serves every CLI part: a queue entry and a service all at once cannot
    // be; so check the shape with [] (each part empty) and that every part ran. The mail counts
    // come live from the (empty) message log of the fake's database.
    ::setenv("FAKE_PMX_OUT", "[]", 1);
    auto r = f.call("dashboard.summary", {});
    REQUIRE(std::holds_alternative<Json>(r));
    const auto& j = std::get<Json>(r);
    CHECK(j["services"] == Json::array());
    CHECK(j["mail"]["last_hour"]["messages"] == 0);
    CHECK(j["mail"]["last_day"]["quarantined"] == 0);
    CHECK(j["queue"]["total"] == 0);
    CHECK(j["quarantine"]["held"] == 0);
    // The failed jobs come from the service manager itself, which a unit test may not reach:
    // then that part alone is null and says why.
    if (j["job_failures"].is_null()) {
        REQUIRE(j["errors"].size() == 1);
        CHECK(j["errors"][0].get<std::string>().starts_with("jobs: "));
    } else {
        CHECK(j["job_failures"].is_array());
        CHECK(j["errors"] == Json::array());
    }
    auto calls = f.calls();
    std::sort(calls.begin(), calls.end());
    CHECK(calls == std::vector<std::string>{"--json queue list", "--json status"});
}

TEST_CASE("admin methods: who may call them") {
    FakePmx f;
    const std::vector<std::string> admin_only = {
        "dashboard.summary", "services.status", "services.start", "services.stop", "services.restart",
        "config.show",       "config.set",      "config.unset",   "jobs.list",     "jobs.enable",
        "jobs.disable",      "jobs.run",        "jobs.set_schedule", "scheduler.start", "scheduler.stop",
        "scheduler.status",  "queue.list",      "queue.show",     "queue.flush",   "queue.retry",
        "queue.delete",      "ipblock.list",    "ipblock.add",    "ipblock.remove", "log.search"};
    const std::vector<std::pair<std::string, Right>> with_right = {{"reports.list", Right::Reports},
                                                                   {"reports.get", Right::Reports},
                                                                   {"policy.show", Right::Policy},
                                                                   {"policy.test", Right::Policy}};
    for (const auto& name : admin_only) {
        CAPTURE(name);
        const auto& a = FakePmx::method(name).access;
        CHECK(a.admin_realm);
        CHECK_FALSE(a.user_realm);
        CHECK(a.admin_only);
    }
    for (const auto& [name, right] : with_right) {
        CAPTURE(name);
        const auto& a = FakePmx::method(name).access;
        CHECK(a.admin_realm);
        CHECK_FALSE(a.user_realm);
        CHECK_FALSE(a.admin_only);
        REQUIRE(a.right);
        CHECK(*a.right == right);
    }

    // The handlers refuse too (should a dispatcher ever let one through): an end user, and a group
    // admin holding every right but the one needed.
    Session user;
    user.realm = Realm::User;
    user.who.kind = Principal::Kind::User;
    user.who.name = "bob@example.org";
    user.who.scope = {{"bob@example.org", kAllRights}};
    Session group;
    group.realm = Realm::Admin;
    group.who.kind = Principal::Kind::GroupAdmin;
    group.who.name = "carol";
    const Json none = Json::object();
    for (const auto& name : admin_only) {
        CAPTURE(name);
        CHECK(code_of(FakePmx::method(name).handler(Call{f.env, user, none})) == rpc_code::kMethodNotFound);
        group.who.scope = {{"@example.org", kAllRights}};
        CHECK(code_of(FakePmx::method(name).handler(Call{f.env, group, none})) == rpc_code::kForbidden);
    }
    for (const auto& [name, right] : with_right) {
        CAPTURE(name);
        CHECK(code_of(FakePmx::method(name).handler(Call{f.env, user, none})) == rpc_code::kMethodNotFound);
        group.who.scope = {{"@example.org", kAllRights & ~static_cast<Rights>(right)}};
        CHECK(code_of(FakePmx::method(name).handler(Call{f.env, group, none})) == rpc_code::kForbidden);
    }
    CHECK(f.calls().empty());

    // The same through the dispatcher (POST /rpc) with the global method table.
    auto through_rpc = [&](const Session& s, const std::string& name) {
        Request req;
        req.realm = s.realm;
        req.method = "POST";
        req.path = "/rpc";
        req.headers["x-pmx-csrf"] = s.csrf;
        req.body = Json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", name}, {"params", Json::object()}}.dump();
        auto resp = handle_rpc(f.env, req, s);
        CHECK(resp.status == 200);
        auto body = Json::parse(resp.body, nullptr, false);
        return body.is_object() && body.contains("error") ? body["error"].value("code", 0) : 0;
    };
    user.csrf = group.csrf = "token";
    for (const auto& name : admin_only) {
        CAPTURE(name);
        REQUIRE(find_method(name));
        CHECK(find_method(name)->access.admin_only);
        CHECK(through_rpc(user, name) == rpc_code::kMethodNotFound);
        group.who.scope = {{"@example.org", kAllRights}};
        CHECK(through_rpc(group, name) == rpc_code::kForbidden);
    }
    for (const auto& [name, right] : with_right) {
        CAPTURE(name);
        REQUIRE(find_method(name));
        CHECK(through_rpc(user, name) == rpc_code::kMethodNotFound);
        group.who.scope = {{"@example.org", kAllRights & ~static_cast<Rights>(right)}};
        CHECK(through_rpc(group, name) == rpc_code::kForbidden);
    }
    CHECK(f.calls().empty());

    // With the right, a group admin gets the reports, and tries the policy on its own addresses only.
    group.who.scope = {{"@example.org", static_cast<Rights>(Right::Reports) | static_cast<Rights>(Right::Policy)}};
    ::setenv("FAKE_PMX_OUT", "[]", 1);
    CHECK(code_of(FakePmx::method("reports.list").handler(Call{f.env, group, none})) == 0);
    const Json msg = {{"message", "From: a@example.net\r\n\r\nhi\r\n"}};
    CHECK(code_of(FakePmx::method("policy.test").handler(Call{f.env, group, msg})) == rpc_code::kInvalidParams);
    Json other = msg;
    other["recipients"] = {"x@example.org", "y@elsewhere.example"};
    CHECK(code_of(FakePmx::method("policy.test").handler(Call{f.env, group, other})) == rpc_code::kForbidden);
    Json own = msg;
    own["recipients"] = {"x@example.org"};
    CHECK(code_of(FakePmx::method("policy.test").handler(Call{f.env, group, own})) == 0);
    CHECK(f.calls().size() == 2);
}
