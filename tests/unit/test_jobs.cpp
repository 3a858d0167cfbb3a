// Unit tests: jobs (jobs.toml parsing, checks, drop-in edits) and the generator's units,
// checked against golden files: tests/unit/golden/jobs/NAME.toml is loaded on its own and
// NAME.expected holds the problems followed by every generated unit (system manager; a job
// named "*-user" is rendered for a user manager), then the failure-mail template when a job mails
// its failures. PMX_UPDATE_GOLDEN=1 rewrites the .expected files.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "golden.hpp"
#include "jobs/dropin.hpp"
#include "jobs/failure_mail.hpp"
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
        // The OnFailure= template, for the manager of the first job that mails its failures.
        for (const auto& j : r.jobs)
            if (j.on_failure == "mail") {
                got += std::string("=== ") + pmx::jobs::kFailureMailTemplate + "\n" +
                       pmx::jobs::render_failure_mail_unit(options(j.name.ends_with("-user")));
                break;
            }
        got = replace_all(got, file, "@FILE@");
        pmx::test::check_golden(input, got);
    }
    CHECK(inputs.size() >= 3);
}

TEST_CASE("jobs: on_failure is log or mail; mail adds OnFailure= to the service") {
    auto r = load_text("[job.a]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\non_failure = \"mail\"\n"
                       "[job.b]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\n"
                       "[job.c]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\non_failure = \"page\"\n");
    REQUIRE(r.jobs.size() == 2);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].find("job.c.on_failure: \"page\": expected \"log\" or \"mail\"") != std::string::npos);
    CHECK(r.jobs[0].on_failure == "mail");
    CHECK(r.jobs[1].on_failure == "log");
    auto a = pmx::jobs::render_units(r.jobs[0], options(false)).service;
    CHECK(a.find("\nOnFailure=pmx-failure-mail@a.service\n") != std::string::npos);
    CHECK(pmx::jobs::render_units(r.jobs[1], options(false)).service.find("OnFailure=") == std::string::npos);
    auto tmpl = pmx::jobs::render_failure_mail_unit(options(true));
    CHECK(tmpl.find("\nExecStart=/usr/bin/pmx --user jobs notify-failure %i\n") != std::string::npos);
    CHECK(tmpl.find("User=") == std::string::npos);
    CHECK(pmx::jobs::render_failure_mail_unit(options(false)).find("\nUser=pmx\n") != std::string::npos);

    pmx::jobs::Edit e;
    e.job = "b";
    e.on_failure = "mail";
    auto text = pmx::jobs::apply_edit("", e);
    REQUIRE(text);
    auto merged = pmx::jobs::load({{"/usr/share/pmx/jobs.toml", std::string("[job.b]\ncommand = [\"pmx\", \"db\", \"check\"]\nat = \"daily\"\n")},
                                   {"/etc/pmx/jobs.toml.d/90-pmx-jobs.toml", *text}});
    REQUIRE(merged.jobs.size() == 1);
    CHECK(merged.jobs[0].on_failure == "mail");
}

TEST_CASE("jobs: the failure mail") {
    pmx::jobs::FailureReport rep;
    rep.job = "db-check";
    rep.description = "Database integrity check";
    rep.command = "pmx db check";
    rep.result = "failed (exit-code, status=2)";
    rep.unit = "pmx-job-db-check.service";
    rep.invocation_id = "0123456789abcdef0123456789abcdef";
    rep.started_usec = 1'764'072'732'000'000;  // 2025-11-25 12:12:12 UTC
    rep.journal = {"Nov 25 12:12:12 pmx[42]: Failed to open the store: disk full", std::string("bad\x01\rbyte"),
                   std::string(2000, 'x')};
    const std::uint64_t now = 1'764'072'733'000'000;

    auto mail = pmx::jobs::compose_failure_mail(rep, "", {"admin@example.org", "ops@example.org"}, "mx.example.org", now);
    REQUIRE(mail);
    CHECK(mail->sender == "postmaster@mx.example.org");
    CHECK(mail->recipients == std::vector<std::string>{"admin@example.org", "ops@example.org"});
    const auto& m = mail->message;
    auto header_end = m.find("\n\n");
    REQUIRE(header_end != std::string::npos);
    auto headers = m.substr(0, header_end + 1);
    CHECK(headers.find("From: pmx on mx.example.org <postmaster@mx.example.org>\n") != std::string::npos);
    CHECK(headers.find("To: admin@example.org, ops@example.org\n") != std::string::npos);
    CHECK(headers.find("Subject: [pmx] Job db-check failed on mx.example.org\n") != std::string::npos);
    CHECK(headers.find("Date: Tue, 25 Nov 2025 12:12:13 +0000\n") != std::string::npos);
    CHECK(headers.find("Message-ID: <pmx-job-failure.db-check.1764072733000000@mx.example.org>\n") != std::string::npos);
    CHECK(headers.find("Auto-Submitted: auto-generated\n") != std::string::npos);
    for (char c : headers) CHECK((c == '\n' || (c >= 0x20 && c < 0x7f)));
    CHECK(m.find("Command:     pmx db check\n") != std::string::npos);
    CHECK(m.find("Result:      failed (exit-code, status=2)\n") != std::string::npos);
    CHECK(m.find("Started:     2025-11-25 12:12:12 UTC\n") != std::string::npos);
    CHECK(m.find("  Nov 25 12:12:12 pmx[42]: Failed to open the store: disk full\n") != std::string::npos);
    CHECK(m.find("  bad??byte\n") != std::string::npos);
    CHECK(m.find(std::string(500, 'x') + " [...]\n") != std::string::npos);
    // No line near RFC 5322's 998-byte limit.
    std::size_t start = 0;
    for (auto nl = m.find('\n'); nl != std::string::npos; start = nl + 1, nl = m.find('\n', start)) CHECK(nl - start < 600);

    auto from = pmx::jobs::compose_failure_mail(rep, "pmx@example.org", {"admin@example.org"}, "mx", now);
    REQUIRE(from);
    CHECK(from->sender == "pmx@example.org");

    auto none = pmx::jobs::compose_failure_mail(rep, "", {}, "mx", now);
    REQUIRE_FALSE(none);
    CHECK(none.error().message.find("jobs.failure_mail_to is empty") != std::string::npos);
    for (const char* bad : {"admin", "a b@example.org", "<a@example.org>", "a@example.org\r\nBcc: x@y", "@example.org", "a@"}) {
        auto r = pmx::jobs::compose_failure_mail(rep, "", {bad}, "mx", now);
        CHECK_MESSAGE(!r, bad);
    }
    CHECK_FALSE(pmx::jobs::compose_failure_mail(rep, "x y@z", {"a@example.org"}, "mx", now));
    CHECK(pmx::jobs::check_mail_address("admin@example.org").empty());
}
