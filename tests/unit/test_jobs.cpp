// Unit tests: jobs (jobs.toml parsing, checks, drop-in edits) and the generator's units,
// checked against golden files: tests/unit/golden/jobs/NAME.toml is loaded on its own and
// NAME.expected holds the problems followed by every generated unit (system manager; a job
// named "*-user" is rendered for a user manager). PMX_UPDATE_GOLDEN=1 rewrites the .expected files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "golden.hpp"
#include "jobs/dropin.hpp"
#include "jobs/jobs.hpp"
#include "jobs/units.hpp"

namespace fs = std::filesystem;
using pmx::test::replace_all;
using pmx::test::slurp;

namespace {

pmx::jobs::LoadResult load_text(const std::string& text, const std::string& file = "/etc/pmx/jobs.toml") {
    return pmx::jobs::load({{file, text}});
}

pmx::jobs::RenderOptions options(bool user) {
    pmx::jobs::RenderOptions o;
    o.user_manager = user;
    o.bindir = "/usr/bin";
    o.libexecdir = "/usr/libexec/pmx";
    return o;
}

}  // namespace

TEST_CASE("jobs: a job file parses into jobs") {
    auto r = load_text(R"(
[job.db-maintain]
description = "Database upkeep"
command = ["pmx", "db", "maintain"]
at = ["daily", "Mon *-*-* 12:00"]
randomized_delay = "10min"
persistent = true
timeout = "30min"
)");
    REQUIRE(r.problems.empty());
    REQUIRE(r.jobs.size() == 1);
    const auto& j = r.jobs[0];
    CHECK(j.name == "db-maintain");
    CHECK(j.command == std::vector<std::string>{"pmx", "db", "maintain"});
    CHECK(j.at.size() == 2);
    CHECK(j.enabled);
    CHECK(j.persistent);
    CHECK(j.timeout == "30min");
    CHECK(j.randomized_delay == "10min");
}

TEST_CASE("jobs: drop-ins override single keys; a bad job is skipped, others stay") {
    auto r = pmx::jobs::load({
        {"/usr/share/pmx/jobs.toml", std::string("[job.a]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\n"
                                                 "[job.b]\ncommand = [\"pmx\", \"db\", \"maintain\"]\nat = \"hourly\"\n")},
        {"/etc/pmx/jobs.toml.d/50-x.toml", std::string("[job.a]\nenabled = false\nat = \"weekly\"\n"
                                                       "[job.b]\nat = \"bogus\\u0001\"\n")},
    });
    REQUIRE(r.jobs.size() == 1);
    CHECK(r.jobs[0].name == "a");
    CHECK_FALSE(r.jobs[0].enabled);
    CHECK(r.jobs[0].at == std::vector<std::string>{"weekly"});
    CHECK(r.jobs[0].files.size() == 2);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].find("/etc/pmx/jobs.toml.d/50-x.toml:5:") == 0);
    CHECK(r.problems[0].find("job.b.at") != std::string::npos);
}

TEST_CASE("jobs: a syntax error skips the file and names file:line") {
    auto r = pmx::jobs::load({
        {"/usr/share/pmx/jobs.toml", std::string("[job.a]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\n")},
        {"/etc/pmx/jobs.toml", std::string("[job.a\nenabled = false\n")},
    });
    REQUIRE(r.jobs.size() == 1);
    CHECK(r.jobs[0].enabled);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].find("/etc/pmx/jobs.toml:1:") == 0);
    CHECK(r.problems[0].find("syntax error") != std::string::npos);
}

TEST_CASE("jobs: checks of names, commands, time spans, calendars") {
    using namespace pmx::jobs;
    CHECK(check_name("db-maintain").empty());
    CHECK_FALSE(check_name("Db").empty());
    CHECK_FALSE(check_name("a/b").empty());
    CHECK_FALSE(check_name("-x").empty());
    CHECK_FALSE(check_name(std::string(65, 'a')).empty());
    CHECK(check_command({"pmx", "db", "check"}).empty());
    CHECK(check_command({"pmx-refresh", "--all"}).empty());
    CHECK_FALSE(check_command({"pmx"}).empty());
    CHECK_FALSE(check_command({"/bin/sh", "-c", "rm -rf /"}).empty());
    CHECK_FALSE(check_command({"../x"}).empty());
    CHECK_FALSE(check_command({"pmx", "--user", "db", "check"}).empty());
    CHECK_FALSE(check_command({}).empty());
    CHECK(check_timespan("30min", false).empty());
    CHECK(check_timespan("1h 30m", false).empty());
    CHECK(check_timespan("90", false).empty());
    CHECK(check_timespan("infinity", true).empty());
    CHECK_FALSE(check_timespan("infinity", false).empty());
    CHECK_FALSE(check_timespan("5 parsecs", false).empty());
    CHECK_FALSE(check_timespan("", false).empty());
    CHECK(check_calendar_syntax("*-*-* 03:00:00").empty());
    CHECK_FALSE(check_calendar_syntax("").empty());
    CHECK_FALSE(check_calendar_syntax("daily\nExecStart=/bin/sh").empty());
    CHECK_FALSE(check_calendar_syntax("%h").empty());
    CHECK(job_of_unit("pmx-job-db-check.timer") == "db-check");
    CHECK(job_of_unit("pmx-milter.service") == "");
}

TEST_CASE("jobs: split_command and command_text") {
    std::string err;
    auto v = pmx::jobs::split_command("pmx quarantine expire  --older-than '30 d'", &err);
    CHECK(err.empty());
    CHECK(v == std::vector<std::string>{"pmx", "quarantine", "expire", "--older-than", "30 d"});
    CHECK(pmx::jobs::command_text(v) == "pmx quarantine expire --older-than '30 d'");
    pmx::jobs::split_command("pmx \"x", &err);
    CHECK_FALSE(err.empty());
}

TEST_CASE("jobs: ExecStart quoting escapes specifiers and variables") {
    CHECK(pmx::jobs::exec_line({"/usr/bin/pmx", "db", "check"}) == "/usr/bin/pmx db check");
    CHECK(pmx::jobs::exec_line({"/x", "a b", "50%", "$HOME", "q\"t"}) == "/x \"a b\" 50%% $$HOME \"q\\\"t\"");
}

TEST_CASE("jobs: drop-in edits keep other jobs and round-trip") {
    pmx::jobs::Edit off;
    off.job = "a";
    off.enabled = false;
    auto text = pmx::jobs::apply_edit("", off);
    REQUIRE(text);
    pmx::jobs::Edit e;
    e.job = "b";
    e.command = std::vector<std::string>{"pmx", "db", "check"};
    e.at = std::vector<std::string>{"*:0/5"};
    auto text2 = pmx::jobs::apply_edit(*text, e);
    REQUIRE(text2);
    CHECK(pmx::jobs::dropin_has_job(*text2, "a"));
    CHECK(pmx::jobs::dropin_has_job(*text2, "b"));
    auto r = load_text(*text2);
    REQUIRE(r.jobs.size() == 1);  // a has no command in this file alone
    CHECK(r.jobs[0].name == "b");
    CHECK(r.jobs[0].at == std::vector<std::string>{"*:0/5"});
    pmx::jobs::Edit rm;
    rm.job = "b";
    rm.remove = true;
    auto removed = pmx::jobs::apply_edit(*text2, rm);
    REQUIRE(removed);
    CHECK_FALSE(pmx::jobs::dropin_has_job(*removed, "b"));
    CHECK(pmx::jobs::dropin_has_job(*removed, "a"));
    CHECK_FALSE(pmx::jobs::apply_edit("[job.a\n", off));
}

TEST_CASE("jobs: the vendor jobs.toml is valid") {
    auto path = fs::path(PMX_SOURCE_ROOT) / "share/jobs.toml";
    auto r = pmx::jobs::load({{path.string(), std::nullopt}});
    CHECK(r.problems.empty());
    CHECK(r.jobs.size() >= 3);
}

TEST_CASE("jobs: generator output and problems match their golden files") {
    const auto inputs = pmx::test::golden_inputs("jobs", ".toml");
    for (const auto& input : inputs) {
        const std::string file = input.string();
        auto r = pmx::jobs::load({{file, std::nullopt}});
        std::string got;
        for (const auto& p : r.problems) got += "problem: " + p + "\n";
        for (const auto& j : r.jobs) {
            auto units = pmx::jobs::render_units(j, options(j.name.ends_with("-user")));
            got += "=== " + pmx::jobs::service_unit(j.name) + "\n" + units.service;
            got += "=== " + pmx::jobs::timer_unit(j.name) + (j.enabled ? " (wanted by pmx-scheduler.target)" : "") +
                   "\n" + units.timer;
        }
        got = replace_all(got, file, "@FILE@");
        pmx::test::check_golden(input, got);
    }
    CHECK(inputs.size() >= 3);
}
