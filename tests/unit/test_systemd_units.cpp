// Pure logic of lib/systemd: state columns, exit codes, argument → unit resolution, messages.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "systemd/manager.hpp"
#include "systemd/units.hpp"

using namespace pmx;
using namespace pmx::systemd;

namespace {
UnitProperties unit(std::string name, std::string active, std::string sub, std::string load = "loaded") {
    UnitProperties p;
    p.unit = std::move(name);
    p.load_state = std::move(load);
    p.active_state = std::move(active);
    p.sub_state = std::move(sub);
    return p;
}
}  // namespace

TEST_CASE("active_column shows the sub-state only when it adds something") {
    CHECK(active_column(unit("a.service", "active", "running")) == "active (running)");
    CHECK(active_column(unit("a.service", "inactive", "dead")) == "inactive (dead)");
    CHECK(active_column(unit("a.service", "failed", "failed")) == "failed");
    CHECK(active_column(unit("a.service", "activating", "auto-restart")) == "activating (auto-restart)");
    CHECK(active_column(unit("a.service", "active", "")) == "active");
    CHECK(active_column(unit("a.service", "inactive", "dead", "not-found")) == "not-found");
    CHECK(active_column(UnitProperties{}) == "-");
}

TEST_CASE("is_active accepts what systemctl is-active accepts") {
    CHECK(is_active("active"));
    CHECK(is_active("reloading"));
    CHECK_FALSE(is_active("activating"));
    CHECK_FALSE(is_active("inactive"));
    CHECK_FALSE(is_active("failed"));
    CHECK_FALSE(is_active(""));
}

TEST_CASE("since_usec picks the timestamp of the current state") {
    auto p = unit("a.service", "active", "running");
    p.active_enter_usec = 1;
    p.active_exit_usec = 2;
    p.inactive_enter_usec = 3;
    p.inactive_exit_usec = 4;
    CHECK(since_usec(p) == 1);
    p.active_state = "reloading";
    CHECK(since_usec(p) == 1);
    p.active_state = "deactivating";
    CHECK(since_usec(p) == 2);
    p.active_state = "inactive";
    CHECK(since_usec(p) == 3);
    p.active_state = "failed";
    CHECK(since_usec(p) == 3);
    p.active_state = "activating";
    CHECK(since_usec(p) == 4);
    p.active_state = "maintenance";
    CHECK(since_usec(p) == 0);
}

TEST_CASE("exec_status and failure_summary") {
    auto p = unit("pmx-milter.service", "failed", "failed");
    CHECK(exec_status(p).empty());
    CHECK(failure_summary(p) == "failed");

    p.result = "exit-code";
    p.exec_main_code = 1;  // CLD_EXITED
    p.exec_main_status = 1;
    CHECK(exec_status(p) == "status=1");
    CHECK(failure_summary(p) == "failed (Result: exit-code, status=1)");

    p.result = "signal";
    p.exec_main_code = 2;  // CLD_KILLED
    p.exec_main_status = 9;
    CHECK(failure_summary(p) == "failed (Result: signal, signal=KILL)");

    p.result = "core-dump";
    p.exec_main_code = 3;  // CLD_DUMPED
    p.exec_main_status = 11;
    CHECK(failure_summary(p) == "failed (Result: core-dump, signal=SEGV (core dumped))");

    auto ok = unit("pmx-milter.service", "inactive", "dead");
    ok.result = "success";
    CHECK(failure_summary(ok) == "inactive (dead)");

    auto timeout = unit("pmx-avd.service", "failed", "failed");
    timeout.result = "timeout";
    CHECK(failure_summary(timeout) == "failed (Result: timeout)");

    auto missing = unit("pmx-avd.service", "inactive", "dead", "not-found");
    CHECK(failure_summary(missing) == "not-found");
    missing.load_error = "Unit pmx-avd.service not found.";
    CHECK(failure_summary(missing) == "not-found (Unit pmx-avd.service not found.)");
}

TEST_CASE("status_exit_code maps like systemctl is-active/status") {
    std::vector<UnitProperties> all_active = {unit("a.service", "active", "running"),
                                              unit("b.service", "reloading", "reload")};
    CHECK(status_exit_code(all_active) == 0);
    CHECK(status_exit_code(std::vector<UnitProperties>{}) == 0);

    for (const char* state : {"inactive", "failed", "activating", "deactivating"}) {
        CAPTURE(state);
        std::vector<UnitProperties> v = {unit("a.service", "active", "running"), unit("b.service", state, "x")};
        CHECK(status_exit_code(v) == kExitNotActive);
    }

    std::vector<UnitProperties> missing = {unit("a.service", "failed", "failed"),
                                           unit("b.service", "inactive", "dead", "not-found"),
                                           unit("c.service", "active", "running")};
    CHECK(status_exit_code(missing) == kExitNoSuchUnit);
}

TEST_CASE("format_counters") {
    std::vector<std::pair<std::string, std::uint64_t>> c = {{"connections", 3}, {"reloads", 1}};
    CHECK(format_counters(c) == "connections=3 reloads=1");
    CHECK(format_counters({}) == "");
}

TEST_CASE("format_unit_file_change reads like systemctl") {
    CHECK(format_unit_file_change({"symlink", "/etc/systemd/system/pmx.target.wants/pmx-milter.service",
                                   "/usr/lib/systemd/system/pmx-milter.service"}) ==
          "Created symlink /etc/systemd/system/pmx.target.wants/pmx-milter.service \u2192 "
          "/usr/lib/systemd/system/pmx-milter.service.");
    CHECK(format_unit_file_change({"unlink", "/etc/systemd/system/pmx.target.wants/pmx-milter.service", ""}) ==
          "Removed /etc/systemd/system/pmx.target.wants/pmx-milter.service.");
    CHECK(format_unit_file_change({"is-masked", "/etc/systemd/system/pmx-avd.service", "/dev/null"}) ==
          "is-masked: /etc/systemd/system/pmx-avd.service \u2192 /dev/null");
}

TEST_CASE("select_services: no argument is the whole gateway") {
    auto s = select_services({});
    REQUIRE(s);
    CHECK(s->whole_gateway);
    CHECK(s->services.size() == all_services().size());
    CHECK(job_units(*s) == std::vector<std::string>{"pmx.target"});
    auto files = unit_files(*s);
    REQUIRE(files.size() == all_services().size() + 1);
    CHECK(files.front() == "pmx.target");
    CHECK(files[1] == std::string(all_services()[0].unit));
}

TEST_CASE("select_services: names, aliases, unit names; duplicates once, in argument order") {
    std::vector<std::string> args = {"avd", "pmx-milter.service", "policy", "pmx-ipblockd", "ipblock"};
    auto s = select_services(args);
    REQUIRE(s);
    CHECK_FALSE(s->whole_gateway);
    CHECK(job_units(*s) ==
          std::vector<std::string>{"pmx-avd.service", "pmx-milter.service", "pmx-ipblockd.service"});
    CHECK(unit_files(*s) == job_units(*s));
}

TEST_CASE("select_services: an unknown name is an error listing the valid ones") {
    std::vector<std::string> args = {"milter", "nosuch"};
    auto s = select_services(args);
    REQUIRE_FALSE(s);
    CHECK(s.error().message.find("Unknown service \"nosuch\"") != std::string::npos);
    CHECK(s.error().message.find(service_names_list()) != std::string::npos);
    std::vector<std::string> target = {"pmx.target"};
    CHECK_FALSE(select_services(target));
}

TEST_CASE("missing_after_target_start: wanted or enabled services that do not run") {
    auto target = unit("pmx.target", "active", "active");
    target.wants = {"pmx-milter.service", "pmx-avd.service"};
    std::vector<UnitProperties> svcs = {
        unit("pmx-milter.service", "active", "running"),    // wanted, runs
        unit("pmx-avd.service", "failed", "failed"),        // wanted, failed
        unit("pmx-queued.service", "inactive", "dead"),     // enabled, not running
        unit("pmx-ipblockd.service", "inactive", "dead"),   // disabled: not expected
    };
    svcs[2].unit_file_state = "enabled";
    svcs[3].unit_file_state = "disabled";
    auto missing = missing_after_target_start(svcs, target);
    REQUIRE(missing.size() == 2);
    CHECK(missing[0]->unit == "pmx-avd.service");
    CHECK(missing[1]->unit == "pmx-queued.service");
}

TEST_CASE("JobOutcome: ok and the messages for each job result") {
    JobOutcome o{"pmx-milter.service", "done", ""};
    CHECK(o.ok());
    CHECK(o.describe(UnitAction::Start).empty());
    o.result = "skipped";
    CHECK(o.ok());
    o.result = "failed";
    CHECK_FALSE(o.ok());
    CHECK(o.describe(UnitAction::Start) == "Job for pmx-milter.service failed.");
    o.result = "dependency";
    CHECK(o.describe(UnitAction::Start) == "A dependency job for pmx-milter.service failed.");
    o.result = "invalid";
    CHECK(o.describe(UnitAction::Reload) == "pmx-milter.service is not active, cannot reload.");
    o.result = "timeout";
    CHECK(o.describe(UnitAction::Stop) == "Job for pmx-milter.service timed out.");
    o.result = "weird";
    CHECK(o.describe(UnitAction::Stop) == "Job for pmx-milter.service failed (result: weird).");

    JobOutcome q{"pmx-avd.service", "", "Failed to start pmx-avd.service: Unit pmx-avd.service not found."};
    CHECK_FALSE(q.ok());
    CHECK(q.describe(UnitAction::Start) == q.error);
}

TEST_CASE("action names") {
    CHECK(std::string(action_method(UnitAction::Start)) == "StartUnit");
    CHECK(std::string(action_method(UnitAction::Stop)) == "StopUnit");
    CHECK(std::string(action_method(UnitAction::Restart)) == "RestartUnit");
    CHECK(std::string(action_method(UnitAction::Reload)) == "ReloadUnit");
    CHECK(std::string(action_verb(UnitAction::Restart)) == "restart");
    CHECK(std::string(action_done(UnitAction::Stop)) == "Stopped");
}
