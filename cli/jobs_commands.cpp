// pmx scheduler start|stop|status|enable|disable; jobs list|show|run|enable|disable|set|add|remove|check|
// notify-failure.
// Jobs live in jobs.toml and its drop-ins; pmx-jobs-generator makes them systemd timers. The
// state (next run, last result) comes from the manager over D-Bus; every edit goes to pmx's own
// drop-in, then a daemon-reload runs the generator again.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "context.hpp"
#include "config/loader.hpp"
#include "jobs/dropin.hpp"
#include "jobs/failure_mail.hpp"
#include "jobs/jobs.hpp"
#include "output.hpp"
#include "pmx-build-config.h"
#include "queue/submit.hpp"
#include "systemd/journal.hpp"
#include "systemd/last_run.hpp"
#include "systemd/manager.hpp"
#include "systemd/timer_state.hpp"
#include "util/atomic_file.hpp"

extern char** environ;

namespace pmx::cli {

namespace {

namespace fs = std::filesystem;
namespace sd = pmx::systemd;

constexpr std::size_t kJournalLines = 20;

sd::Manager connect(const Context& ctx) {
    auto m = sd::Manager::connect(ctx.scope());
    if (!m) throw CommandError(m.error().message, 1);
    return std::move(m).value();
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
    return out;
}

std::string json_strings(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + json_quote(s);
    return "[" + out + "]";
}

// ---- calendar expressions: systemd-analyze has the only complete parser --------------------

struct Captured {
    int status = -1;  // exit status; -1: could not run
    std::string output;
};

Captured run_capture(const std::vector<std::string>& argv) {
    Captured c;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) return c;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int r = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (r != 0) {
        close(fds[0]);
        return c;
    }
    char buf[4096];
    for (;;) {
        ssize_t n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (c.output.size() < 64 * 1024) c.output.append(buf, static_cast<std::size_t>(n));
    }
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
    c.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    return c;
}

// "" when systemd accepts the expression; else why not (systemd-analyze's own words).
// nullopt: systemd-analyze could not be run (then only the light check applies).
std::optional<std::string> calendar_problem(const std::string& expr) {
    if (auto why = jobs::check_calendar_syntax(expr); !why.empty()) return why;
    auto c = run_capture({"systemd-analyze", "calendar", "--iterations=1", "--", expr});
    if (c.status < 0) return std::nullopt;
    if (c.status == 0) return "";
    std::string text = c.output;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    if (text.empty()) text = fmt::format("systemd-analyze calendar exited {}", c.status);
    return text;
}

void require_valid_calendars(const std::vector<std::string>& exprs) {
    for (const auto& e : exprs) {
        auto why = calendar_problem(e);
        if (!why) {
            fmt::print(stderr, "Note: systemd-analyze not found; \"{}\" got only a light check\n", e);
            continue;
        }
        if (!why->empty()) throw CommandError(fmt::format("Invalid calendar expression \"{}\": {}", e, *why), 2);
    }
}

// ---- job files ------------------------------------------------------------------------------

jobs::LoadResult load_jobs(const jobs::Layout& layout) { return jobs::load(layout); }

// A job is known when some file defines its table, valid or not.
bool job_defined(const jobs::LoadResult& r, const std::string& name) {
    if (jobs::find(r, name)) return true;
    const std::string a = ": job." + name + ":", b = ": job." + name + ".";
    return std::any_of(r.problems.begin(), r.problems.end(),
                       [&](const std::string& p) { return p.find(a) != std::string::npos || p.find(b) != std::string::npos; });
}

std::vector<std::string> problems_of(const jobs::LoadResult& r, const std::string& name) {
    std::vector<std::string> out;
    const std::string a = ": job." + name + ":", b = ": job." + name + ".";
    for (const auto& p : r.problems)
        if (p.find(a) != std::string::npos || p.find(b) != std::string::npos) out.push_back(p);
    return out;
}

void warn_problems(const Context& ctx, const jobs::LoadResult& r) {
    if (r.problems.empty() || ctx.quiet) return;
    std::fflush(stdout);
    fmt::print(stderr, "{} problem{} in the job files (those jobs are not scheduled); see pmx jobs check\n",
               r.problems.size(), r.problems.size() == 1 ? "" : "s");
}

void require_name(const std::string& name) {
    if (auto why = jobs::check_name(name); !why.empty())
        throw CommandError(fmt::format("Invalid job name \"{}\": {}", name, why), 2);
}

// ---- state from the manager -----------------------------------------------------------------

struct JobRow {
    const jobs::Job* job = nullptr;
    sd::TimerState timer;
    sd::JobServiceState service;
};

JobRow job_row(sd::Manager& m, const jobs::Job& j) {
    JobRow row;
    row.job = &j;
    auto t = sd::timer_state(m, jobs::timer_unit(j.name));
    if (!t) throw CommandError(t.error().message);
    row.timer = std::move(t).value();
    auto s = sd::job_service_state(m, jobs::service_unit(j.name));
    if (!s) throw CommandError(s.error().message);
    row.service = std::move(s).value();
    // Unloaded since its last clean run (nothing referred to it): the journal still knows.
    auto& sv = row.service;
    if (sv.load_state == "loaded" && sv.exec_main_start_usec == 0 && sv.active_state == "inactive") {
        if (auto last = sd::last_run_from_journal(sv.unit); last && *last) {
            sv.exec_main_start_usec = (*last)->usec;
            if ((*last)->job_result != "done") sv.result = (*last)->job_result.empty() ? "failed" : (*last)->job_result;
        }
    }
    return row;
}

std::uint64_t next_run(const JobRow& r) {
    return r.timer.active_state == "active" ? r.timer.next_elapse_usec : 0;
}

std::string next_text(const JobRow& r) {
    if (r.timer.load_state != "loaded") return "-";
    if (r.timer.active_state != "active") return r.job->enabled ? "- (stopped)" : "- (disabled)";
    return format_timestamp_usec(r.timer.next_elapse_usec);
}

std::string row_json(const JobRow& r) {
    const auto& j = *r.job;
    const auto& s = r.service;
    return fmt::format(
        "{{\"name\": {}, \"description\": {}, \"command\": {}, \"enabled\": {}, \"schedule\": {}, "
        "\"timer_active\": {}, \"next_usec\": {}, \"next\": {}, \"last_usec\": {}, \"last\": {}, "
        "\"result\": {}, \"result_text\": {}, \"failed\": {}, \"active_state\": {}, \"exec_main_status\": {}, "
        "\"service\": {}, \"timer\": {}}}",
        json_quote(j.name), json_quote(j.description), json_strings(j.command), j.enabled ? "true" : "false",
        json_strings(j.at), r.timer.active_state == "active" ? "true" : "false", next_run(r),
        json_quote(format_timestamp_usec(next_run(r))), s.exec_main_start_usec,
        json_quote(format_timestamp_usec(s.exec_main_start_usec)), json_quote(s.result),
        json_quote(sd::job_result_text(s)), sd::job_failed(s) ? "true" : "false", json_quote(s.active_state),
        s.exec_main_status, json_quote(s.unit), json_quote(r.timer.unit));
}

std::string scheduler_state(sd::Manager& m) {
    auto t = sd::timer_state(m, jobs::kSchedulerTarget);
    if (!t) throw CommandError(t.error().message);
    if (t->load_state != "loaded") return t->load_state;
    return t->active_state;
}

void print_jobs_table(const std::vector<JobRow>& rows) {
    Table t({"JOB", "ENABLED", "SCHEDULE", "NEXT", "LAST", "RESULT"});
    for (const auto& r : rows)
        t.add({r.job->name, r.job->enabled ? "yes" : "no", join(r.job->at, "; "), next_text(r),
               format_timestamp_usec(r.service.exec_main_start_usec), sd::job_result_text(r.service)});
    fmt::print("{}", t.render());
}

void list(Context& ctx) {
    auto loaded = load_jobs(jobs::Layout::from_environment());
    auto m = connect(ctx);
    std::vector<JobRow> rows;
    for (const auto& j : loaded.jobs) rows.push_back(job_row(m, j));
    const auto scheduler = scheduler_state(m);
    int failed = 0;
    for (const auto& r : rows) failed += sd::job_failed(r.service) ? 1 : 0;
    if (ctx.json) {
        std::string items;
        for (const auto& r : rows) items += (items.empty() ? "\n  " : ",\n  ") + row_json(r);
        fmt::print("{{\"scheduler\": {}, \"failed\": {}, \"jobs\": [{}{}], \"problems\": {}}}\n", json_quote(scheduler),
                   failed, items, rows.empty() ? "" : "\n", json_strings(loaded.problems));
        return;
    }
    if (ctx.quiet) return;
    if (rows.empty()) fmt::print("No jobs are configured.\n");
    else print_jobs_table(rows);
    fmt::print("\nScheduler ({}): {}{}\n", jobs::kSchedulerTarget, scheduler,
               scheduler == "active" ? "" : "; no job runs on its schedule (pmx scheduler start)");
    if (failed) fmt::print("{} job{} failed on the last run; pmx jobs show NAME says why\n", failed, failed == 1 ? "" : "s");
    warn_problems(ctx, loaded);
}

const jobs::Job& require_job(const jobs::LoadResult& loaded, const std::string& name) {
    require_name(name);
    if (const auto* j = jobs::find(loaded, name)) return *j;
    auto problems = problems_of(loaded, name);
    if (!problems.empty())
        throw CommandError(fmt::format("Job {} is not scheduled, its configuration is invalid:\n{}", name, join(problems, "\n")));
    throw CommandError(fmt::format("No job named \"{}\" (see pmx jobs list)", name));
}

// The journal lines of one run (invocation; "" = the newest lines of the unit).
std::vector<std::string> run_journal(const sd::JobServiceState& service, const std::string& invocation,
                                     std::size_t lines) {
    std::vector<std::string> journal;
    if (invocation.empty() && !service.exec_main_start_usec) return journal;
    // No invocation id: the unit was unloaded since its run; its newest lines then.
    sd::JournalQuery q{.unit = service.unit, .lines = lines, .since_usec = 0, .invocation_id = invocation};
    auto got = sd::unit_journal(q);
    // Lines of very short runs may lack the invocation id: then the lines since the run began.
    if (got && got->empty() && service.exec_main_start_usec && !q.invocation_id.empty()) {
        q.invocation_id.clear();
        q.since_usec = service.exec_main_start_usec - std::min<std::uint64_t>(service.exec_main_start_usec, 1'000'000);
        got = sd::unit_journal(q);
    }
    if (got) journal = std::move(got).value();
    else fmt::print(stderr, "{}, ignoring\n", got.error().message);
    return journal;
}

void show(Context& ctx, const std::string& name, std::size_t lines) {
    auto loaded = load_jobs(jobs::Layout::from_environment());
    const auto& j = require_job(loaded, name);
    auto m = connect(ctx);
    auto r = job_row(m, j);
    auto journal = run_journal(r.service, r.service.invocation_id, lines);
    if (ctx.json) {
        auto obj = row_json(r);
        obj.pop_back();
        fmt::print("{}, \"randomized_delay\": {}, \"persistent\": {}, \"timeout\": {}, \"on_failure\": {}, "
                   "\"files\": {}, \"last_exit_usec\": {}, \"invocation_id\": {}, \"journal\": {}}}\n",
                   obj, json_quote(j.randomized_delay), j.persistent ? "true" : "false", json_quote(j.timeout),
                   json_quote(j.on_failure), json_strings(j.files), r.service.exec_main_exit_usec,
                   json_quote(r.service.invocation_id), json_strings(journal));
        return;
    }
    fmt::print("Job:         {}\n", j.name);
    fmt::print("Description: {}\n", j.description.empty() ? "-" : j.description);
    fmt::print("Command:     {}\n", jobs::command_text(j.command));
    fmt::print("Schedule:    {}\n", join(j.at, "; "));
    fmt::print("Enabled:     {}\n", j.enabled ? "yes" : "no");
    fmt::print("Options:     randomized delay {}, persistent {}, timeout {}, on failure {}\n",
               j.randomized_delay.empty() ? "none" : j.randomized_delay, j.persistent ? "yes" : "no", j.timeout,
               j.on_failure);
    fmt::print("Files:       {}\n", join(j.files, ", "));
    fmt::print("Units:       {} ({}), {}\n", r.timer.unit,
               r.timer.load_state == "loaded" ? r.timer.active_state : r.timer.load_state, r.service.unit);
    fmt::print("Next run:    {}\n", next_text(r));
    fmt::print("Last run:    {}{}\n", format_timestamp_usec(r.service.exec_main_start_usec),
               r.service.exec_main_exit_usec && r.service.exec_main_exit_usec >= r.service.exec_main_start_usec &&
                       r.service.exec_main_start_usec
                   ? fmt::format(" (took {:.1f}s)",
                                 static_cast<double>(r.service.exec_main_exit_usec - r.service.exec_main_start_usec) / 1e6)
                   : "");
    fmt::print("Last result: {}\n", sd::job_result_text(r.service));
    if (!journal.empty()) {
        fmt::print("\nLog of the last run:\n");
        for (const auto& l : journal) fmt::print("  {}\n", l);
    }
}

std::uint64_t realtime_now_usec() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

void run_now(Context& ctx, const std::string& name, double timeout_sec) {
    auto loaded = load_jobs(jobs::Layout::from_environment());
    const auto& j = require_job(loaded, name);
    auto m = connect(ctx);
    const auto unit = jobs::service_unit(j.name);
    const auto began = realtime_now_usec();
    if (!ctx.quiet && !ctx.json) fmt::print("Running {} ({})...\n", j.name, jobs::command_text(j.command));
    std::fflush(stdout);
    auto result = m.run_job(sd::UnitAction::Start, unit,
                            std::chrono::microseconds(static_cast<std::int64_t>(timeout_sec * 1e6)));
    if (!result) throw CommandError(result.error().message);
    auto s = sd::job_service_state(m, unit);
    if (!s) throw CommandError(s.error().message);
    const bool ok = (*result == "done") && !sd::job_failed(*s);
    std::vector<std::string> journal;
    if (!ok || ctx.json) {
        sd::JournalQuery q{.unit = unit, .lines = kJournalLines, .since_usec = began, .invocation_id = s->invocation_id};
        if (auto got = sd::unit_journal(q)) journal = std::move(got).value();
    }
    if (ctx.json) {
        fmt::print("{{\"name\": {}, \"ok\": {}, \"job_result\": {}, \"result\": {}, \"result_text\": {}, "
                   "\"exec_main_status\": {}, \"journal\": {}}}\n",
                   json_quote(j.name), ok ? "true" : "false", json_quote(*result), json_quote(s->result),
                   json_quote(sd::job_result_text(*s)), s->exec_main_status, json_strings(journal));
    } else if (ok) {
        if (!ctx.quiet) fmt::print("{}: success\n", j.name);
    } else {
        fmt::print(stderr, "{}: {}\n", j.name, sd::job_result_text(*s));
        for (const auto& l : journal) fmt::print(stderr, "  {}\n", l);
    }
    if (!ok) ctx.exit_code = 1;
}

// ---- edits: pmx's own drop-in, then daemon-reload ---------------------------------------------

enum class TimerFollowUp { None, Start, Stop, Restart };

// Writes the edit (checked against every job file first), reloads the manager so the
// generator runs, then brings the job's timer in line while the Scheduler runs.
void apply_and_reload(Context& ctx, const jobs::Edit& edit, TimerFollowUp follow) {
    const auto layout = jobs::Layout::from_environment();
    const auto own = layout.own_dropin();
    std::string current;
    std::error_code ec;
    if (fs::exists(own, ec)) {
        auto text = read_file(own);
        if (!text) throw CommandError(text.error().message);
        current = std::move(text).value();
    }
    auto next = jobs::apply_edit(current, edit);
    if (!next) throw CommandError(fmt::format("Failed to edit {}: {}", own.string(), next.error().message));

    auto merged = jobs::load_with(layout, own, *next);
    if (!edit.remove && !jobs::find(merged, edit.job)) {
        auto problems = problems_of(merged, edit.job);
        throw CommandError(fmt::format("Refusing the change, job {} would be invalid:\n{}", edit.job,
                                       problems.empty() ? "(no details)" : join(problems, "\n")),
                           2);
    }

    auto m = connect(ctx);
    const auto timer = jobs::timer_unit(edit.job);
    // A removed job's units disappear with the reload: stop them while the manager knows them.
    if (edit.remove) {
        for (const auto& u : {timer, jobs::service_unit(edit.job)}) {
            auto r = m.run_job(sd::UnitAction::Stop, u);
            if (!r) fmt::print(stderr, "{}, ignoring\n", r.error().message);
        }
    }

    fs::create_directories(layout.dropin_dir(), ec);
    if (ec) throw CommandError(fmt::format("Failed to create {}: {}", layout.dropin_dir().string(), ec.message()));
    if (auto w = write_file_atomically(own, *next, 0644); !w) throw CommandError(w.error().message);
    if (!ctx.quiet) fmt::print("Saved in {}\n", own.string());

    if (auto r = m.reload(); !r) throw CommandError(fmt::format("Saved, but {}", r.error().message));
    if (!ctx.quiet) fmt::print("Reloaded the {} manager (the generator ran again)\n", ctx.user ? "user" : "system");

    const bool scheduler_active = scheduler_state(m) == "active";
    if (scheduler_active && follow != TimerFollowUp::None) {
        auto action = follow == TimerFollowUp::Start  ? sd::UnitAction::Start
                      : follow == TimerFollowUp::Stop ? sd::UnitAction::Stop
                                                      : sd::UnitAction::Restart;
        auto r = m.run_job(action, timer);
        if (!r) throw CommandError(r.error().message);
        if (*r != "done" && *r != "skipped")
            throw CommandError(fmt::format("Failed to {} {} (job result: {})", sd::action_verb(action), timer, *r));
    }
    if (ctx.quiet || edit.remove) return;
    auto t = sd::timer_state(m, timer);
    if (!t) throw CommandError(t.error().message);
    if (t->active_state == "active")
        fmt::print("{}: next run {}\n", edit.job, format_timestamp_usec(t->next_elapse_usec));
    else if (!scheduler_active)
        fmt::print("{}: the Scheduler is stopped; the job runs once it starts (pmx scheduler start)\n", edit.job);
    else
        fmt::print("{}: not scheduled (disabled)\n", edit.job);
}

void enable(Context& ctx, const std::string& name, bool on) {
    auto loaded = load_jobs(jobs::Layout::from_environment());
    require_name(name);
    if (!job_defined(loaded, name)) throw CommandError(fmt::format("No job named \"{}\" (see pmx jobs list)", name));
    jobs::Edit e;
    e.job = name;
    e.enabled = on;
    apply_and_reload(ctx, e, on ? TimerFollowUp::Start : TimerFollowUp::Stop);
}

struct SetArgs {
    std::string name;
    std::vector<std::string> at;
    std::string description, randomized_delay, timeout, persistent, on_failure;
    bool no_randomized_delay = false;
};

void check_timespan_option(const std::string& value, const char* option, bool infinity) {
    if (auto why = jobs::check_timespan(value, infinity); !why.empty())
        throw CommandError(fmt::format("{}: {}", option, why), 2);
}

std::optional<bool> yes_no(const std::string& v, const char* option) {
    if (v.empty()) return std::nullopt;
    if (v == "yes" || v == "true" || v == "1") return true;
    if (v == "no" || v == "false" || v == "0") return false;
    throw CommandError(fmt::format("{}: expected yes or no, got \"{}\"", option, v), 2);
}

void fill_common(jobs::Edit& e, const SetArgs& a) {
    if (!a.at.empty()) {
        require_valid_calendars(a.at);
        e.at = a.at;
    }
    if (!a.description.empty()) e.description = a.description;
    if (!a.randomized_delay.empty()) {
        check_timespan_option(a.randomized_delay, "--randomized-delay", false);
        e.randomized_delay = a.randomized_delay;
    }
    // "0", not a removed key: the vendor file's delay would show through again.
    if (a.no_randomized_delay) e.randomized_delay = "0";
    if (!a.timeout.empty()) {
        check_timespan_option(a.timeout, "--timeout", true);
        e.timeout = a.timeout;
    }
    e.persistent = yes_no(a.persistent, "--persistent");
    if (!a.on_failure.empty()) e.on_failure = a.on_failure;
}

void set(Context& ctx, const SetArgs& a) {
    require_name(a.name);
    auto loaded = load_jobs(jobs::Layout::from_environment());
    if (!job_defined(loaded, a.name)) throw CommandError(fmt::format("No job named \"{}\" (see pmx jobs list)", a.name));
    jobs::Edit e;
    e.job = a.name;
    fill_common(e, a);
    if (!e.at && !e.description && !e.randomized_delay && !e.timeout && !e.persistent && !e.on_failure)
        throw CommandError("Nothing to set: give --at, --description, --randomized-delay, --timeout, --persistent or "
                           "--on-failure",
                           2);
    apply_and_reload(ctx, e, TimerFollowUp::Restart);
}

struct AddArgs {
    SetArgs set;
    std::string command;
    bool disabled = false;
};

void add(Context& ctx, const AddArgs& a) {
    require_name(a.set.name);
    if (a.set.at.empty()) throw CommandError("A new job needs --at CALENDAR (for example --at daily)", 2);
    std::string split_error;
    auto command = jobs::split_command(a.command, &split_error);
    if (!split_error.empty()) throw CommandError(fmt::format("--command: {}", split_error), 2);
    if (auto why = jobs::check_command(command); !why.empty()) throw CommandError(fmt::format("--command: {}", why), 2);
    if (command.front() != "pmx") {
        auto program = fs::path(PMX_LIBEXECDIR) / command.front();
        if (access(program.c_str(), X_OK) != 0)
            throw CommandError(fmt::format("--command: {} is not a program pmx installed", program.string()), 2);
    }
    auto loaded = load_jobs(jobs::Layout::from_environment());
    if (job_defined(loaded, a.set.name))
        throw CommandError(fmt::format("Job {} already exists; change it with pmx jobs set", a.set.name));
    jobs::Edit e;
    e.job = a.set.name;
    e.command = command;
    e.enabled = !a.disabled;
    fill_common(e, a.set);
    apply_and_reload(ctx, e, a.disabled ? TimerFollowUp::None : TimerFollowUp::Start);
}

void remove(Context& ctx, const std::string& name) {
    require_name(name);
    const auto layout = jobs::Layout::from_environment();
    auto loaded = load_jobs(layout);
    if (!job_defined(loaded, name)) throw CommandError(fmt::format("No job named \"{}\" (see pmx jobs list)", name));
    // Only the admin's own jobs (made with pmx jobs add) can go; the others are disabled instead.
    for (const auto& f : layout.files()) {
        if (f == layout.own_dropin()) continue;
        auto text = read_file(f);
        if (text && jobs::dropin_has_job(*text, name))
            throw CommandError(fmt::format("Job {} is defined in {}, not by pmx jobs add; turn it off with pmx jobs "
                                           "disable {}",
                                           name, f.string(), name));
    }
    jobs::Edit e;
    e.job = name;
    e.remove = true;
    apply_and_reload(ctx, e, TimerFollowUp::None);
    if (!ctx.quiet) fmt::print("Removed job {}\n", name);
}

void check(Context& ctx) {
    const auto layout = jobs::Layout::from_environment();
    auto loaded = load_jobs(layout);
    std::vector<std::string> problems = loaded.problems;
    bool analyzed = true;
    for (const auto& j : loaded.jobs) {
        for (const auto& e : j.at) {
            auto why = calendar_problem(e);
            if (!why) analyzed = false;
            else if (!why->empty()) problems.push_back(fmt::format("job.{}.at: \"{}\": {}", j.name, e, *why));
        }
        if (j.command.front() != "pmx") {
            auto program = fs::path(PMX_LIBEXECDIR) / j.command.front();
            if (access(program.c_str(), X_OK) != 0)
                problems.push_back(fmt::format("job.{}.command: {} is not an installed program", j.name, program.string()));
        }
    }
    // on_failure = "mail" needs an address in pmx.toml (an invalid pmx.toml is `pmx config check`'s).
    if (std::any_of(loaded.jobs.begin(), loaded.jobs.end(), [](const jobs::Job& j) { return j.on_failure == "mail"; })) {
        auto snap = config::load(config::Layout::from_environment());
        if (snap && snap->strings("jobs.failure_mail_to").empty())
            for (const auto& j : loaded.jobs)
                if (j.on_failure == "mail")
                    problems.push_back(fmt::format("job.{}.on_failure: \"mail\", but jobs.failure_mail_to (pmx.toml) is "
                                                   "empty: no mail would be sent",
                                                   j.name));
    }
    if (ctx.json) {
        std::vector<std::string> names;
        for (const auto& j : loaded.jobs) names.push_back(j.name);
        fmt::print("{{\"ok\": {}, \"files\": {}, \"jobs\": {}, \"problems\": {}}}\n", problems.empty() ? "true" : "false",
                   json_strings(loaded.files), json_strings(names), json_strings(problems));
    } else {
        for (const auto& p : problems) fmt::print(stderr, "{}\n", p);
        if (!analyzed) fmt::print(stderr, "Note: systemd-analyze not found; calendar expressions got only a light check\n");
        if (!ctx.quiet)
            fmt::print("{} job{} valid in {} file{}{}\n", loaded.jobs.size(), loaded.jobs.size() == 1 ? "" : "s",
                       loaded.files.size(), loaded.files.size() == 1 ? "" : "s",
                       problems.empty() ? "" : fmt::format("; {} problem{}", problems.size(), problems.size() == 1 ? "" : "s"));
    }
    if (!problems.empty()) ctx.exit_code = 1;
}

// ---- failure mail ----------------------------------------------------------------------------

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// Run by pmx-failure-mail@NAME.service (OnFailure= of a job with on_failure = "mail"): builds
// the mail and queues it for pmx-queued. systemd (>= 251) tells an OnFailure= unit which run
// failed (MONITOR_*); without that, the manager's view of the job's last run is used.
void notify_failure(Context& ctx, const std::string& name, bool print_only) {
    require_name(name);
    auto loaded = load_jobs(jobs::Layout::from_environment());
    auto snap = config::load(config::Layout::from_environment());
    if (!snap) throw CommandError(fmt::format("Configuration is invalid:\n{}", snap.error().message));

    jobs::FailureReport report;
    report.job = name;
    report.unit = jobs::service_unit(name);
    if (const auto* j = jobs::find(loaded, name)) {
        report.description = j->description;
        report.command = jobs::command_text(j->command);
    }
    auto m = connect(ctx);
    auto s = sd::job_service_state(m, report.unit);
    if (!s) throw CommandError(s.error().message);
    report.result = sd::job_result_text(*s);
    if (auto result = env_or("MONITOR_SERVICE_RESULT", ""); !result.empty()) {
        auto code = env_or("MONITOR_EXIT_CODE", ""), status = env_or("MONITOR_EXIT_STATUS", "");
        report.result = code == "exited"  ? fmt::format("failed ({}, status={})", result, status)
                        : !code.empty()   ? fmt::format("failed ({}, {} {})", result, code, status)
                                          : fmt::format("failed ({})", result);
    }
    report.invocation_id = env_or("MONITOR_INVOCATION_ID", s->invocation_id);
    report.started_usec = s->exec_main_start_usec;
    report.journal = run_journal(*s, report.invocation_id, kJournalLines);

    auto mail = jobs::compose_failure_mail(report, snap->string("jobs.failure_mail_from"),
                                           snap->strings("jobs.failure_mail_to"), jobs::host_name(), realtime_now_usec());
    if (!mail) throw CommandError(mail.error().message);
    if (print_only) {
        fmt::print("{}", mail->message);
        return;
    }
    const auto spool = queue::spool_directory(*snap);
    auto id = queue::submit(spool, {mail->sender, mail->recipients, "job-failure", "job " + name}, mail->message);
    if (!id) throw CommandError(fmt::format("Failed to queue the failure mail of job {}: {}", name, id.error().message));
    if (ctx.json)
        fmt::print("{{\"job\": {}, \"id\": {}, \"spool\": {}, \"recipients\": {}}}\n", json_quote(name), json_quote(*id),
                   json_quote(spool.string()), json_strings(mail->recipients));
    else if (!ctx.quiet)
        fmt::print("Queued the failure mail of job {} for {} (queue entry {})\n", name, join(mail->recipients, ", "), *id);
}

// ---- the Scheduler ---------------------------------------------------------------------------

void scheduler_action(Context& ctx, sd::UnitAction action, double timeout_sec) {
    auto m = connect(ctx);
    auto r = m.run_job(action, jobs::kSchedulerTarget,
                       std::chrono::microseconds(static_cast<std::int64_t>(timeout_sec * 1e6)));
    if (!r) throw CommandError(r.error().message);
    if (*r != "done" && *r != "skipped") {
        sd::JobOutcome o{jobs::kSchedulerTarget, *r, ""};
        throw CommandError(o.describe(action));
    }
    // The timers' own jobs finish after the target's: list what runs now.
    auto timers = sd::list_units(m, {}, std::vector<std::string>{"pmx-job-*.timer"});
    if (!timers) throw CommandError(timers.error().message);
    int active = 0;
    for (const auto& t : *timers) active += t.active_state == "active" ? 1 : 0;
    if (!ctx.quiet)
        fmt::print("{} {}: {} job timer{} active\n", sd::action_done(action), jobs::kSchedulerTarget, active,
                   active == 1 ? "" : "s");
}

void scheduler_status(Context& ctx) {
    auto loaded = load_jobs(jobs::Layout::from_environment());
    auto m = connect(ctx);
    const auto state = scheduler_state(m);
    std::vector<JobRow> rows;
    for (const auto& j : loaded.jobs) rows.push_back(job_row(m, j));
    int active = 0, failed = 0, enabled = 0;
    for (const auto& r : rows) {
        active += r.timer.active_state == "active" ? 1 : 0;
        failed += sd::job_failed(r.service) ? 1 : 0;
        enabled += r.job->enabled ? 1 : 0;
    }
    ctx.exit_code = state == "active" ? 0 : state == "not-found" ? sd::kExitNoSuchUnit : sd::kExitNotActive;
    if (ctx.json) {
        std::string items;
        for (const auto& r : rows) items += (items.empty() ? "" : ", ") + row_json(r);
        fmt::print("{{\"unit\": {}, \"state\": {}, \"jobs\": {}, \"enabled\": {}, \"timers_active\": {}, "
                   "\"failed\": {}, \"problems\": {}}}\n",
                   json_quote(jobs::kSchedulerTarget), json_quote(state), rows.size(), enabled, active, failed,
                   loaded.problems.size());
        return;
    }
    if (ctx.quiet) return;
    fmt::print("{}: {}\n", jobs::kSchedulerTarget, state);
    fmt::print("jobs: {} configured, {} enabled, {} timer{} active, {} failed\n", rows.size(), enabled, active,
               active == 1 ? "" : "s", failed);
    warn_problems(ctx, loaded);
}

void scheduler_unit_file(Context& ctx, bool enable) {
    auto m = connect(ctx);
    const std::vector<std::string> files{jobs::kSchedulerTarget};
    auto res = enable ? m.enable_unit_files(files) : m.disable_unit_files(files);
    if (!res) throw CommandError(res.error().message);
    if (!ctx.quiet)
        for (const auto& c : res->changes) fmt::print("{}\n", sd::format_unit_file_change(c));
}

}  // namespace

void add_jobs_commands(CLI::App& app, Context& ctx) {
    // pmx scheduler ...
    auto* sched = app.add_subcommand("scheduler", "Start, stop or inspect the Scheduler (every job timer at once)");
    sched->require_subcommand(1);
    static double sched_timeout = 90;
    auto* start = sched->add_subcommand("start", "Start pmx-scheduler.target: every enabled job's timer");
    auto* stop = sched->add_subcommand("stop", "Stop pmx-scheduler.target: every job timer; no job runs on schedule");
    for (auto* s : {start, stop})
        s->add_option("--timeout", sched_timeout, "Seconds to wait")->default_val(90)->check(CLI::PositiveNumber);
    start->callback([&ctx] { scheduler_action(ctx, sd::UnitAction::Start, sched_timeout); });
    stop->callback([&ctx] { scheduler_action(ctx, sd::UnitAction::Stop, sched_timeout); });
    auto* status = sched->add_subcommand("status", "Is the Scheduler running; how many jobs, timers, failures (exit 3: stopped)");
    status->add_flag("--json", ctx.json, "Print JSON");
    status->callback([&ctx] { scheduler_status(ctx); });
    sched->add_subcommand("enable", "Start the Scheduler at boot (with timers.target)")->callback([&ctx] {
        scheduler_unit_file(ctx, true);
    });
    sched->add_subcommand("disable", "Do not start the Scheduler at boot")->callback([&ctx] {
        scheduler_unit_file(ctx, false);
    });

    // pmx jobs ...
    auto* jobs_cmd = app.add_subcommand("jobs", "List, run and change scheduled jobs (jobs.toml, systemd timers)");
    jobs_cmd->require_subcommand(1);
    jobs_cmd->footer("Calendar expressions as systemd.time(7): daily, hourly, \"Mon *-*-* 04:00\", \"*:0/5\".\n"
                     "Edits go to jobs.toml.d/90-pmx-jobs.toml, then the manager reloads. See pmx-jobs(1).");

    auto* list_cmd = jobs_cmd->add_subcommand("list", "Every job: enabled, schedule, next run, last run, last result");
    list_cmd->add_flag("--json", ctx.json, "Print JSON");
    list_cmd->callback([&ctx] { list(ctx); });

    static std::string show_name;
    static std::size_t show_lines = kJournalLines;
    auto* show_cmd = jobs_cmd->add_subcommand("show", "One job's settings, state and the log of its last run");
    show_cmd->add_option("NAME", show_name, "Job name")->required();
    show_cmd->add_option("-n,--lines", show_lines, "Log lines of the last run to show")->check(CLI::Range(0, 10000));
    show_cmd->add_flag("--json", ctx.json, "Print JSON");
    show_cmd->callback([&ctx] { show(ctx, show_name, show_lines); });

    static std::string run_name;
    static double run_timeout = 3600;
    auto* run_cmd = jobs_cmd->add_subcommand("run", "Run a job now, wait for it, report the result (exit 1: it failed)");
    run_cmd->add_option("NAME", run_name, "Job name")->required();
    run_cmd->add_option("--timeout", run_timeout, "Seconds to wait for the job")->default_val(3600)->check(CLI::PositiveNumber);
    run_cmd->add_flag("--json", ctx.json, "Print JSON");
    run_cmd->callback([&ctx] { run_now(ctx, run_name, run_timeout); });

    static std::string enable_name;
    jobs_cmd->add_subcommand("enable", "Schedule a job again")
        ->callback([&ctx] { enable(ctx, enable_name, true); })
        ->add_option("NAME", enable_name, "Job name")
        ->required();
    static std::string disable_name;
    jobs_cmd->add_subcommand("disable", "Stop scheduling a job (pmx jobs run still runs it)")
        ->callback([&ctx] { enable(ctx, disable_name, false); })
        ->add_option("NAME", disable_name, "Job name")
        ->required();

    auto add_set_options = [](CLI::App* cmd, SetArgs& a) {
        cmd->add_option("NAME", a.name, "Job name")->required();
        cmd->add_option("--at", a.at, "Calendar expression (repeat for several); replaces the job's times");
        cmd->add_option("--description", a.description, "What the job does");
        cmd->add_option("--randomized-delay", a.randomized_delay, "Random delay up to this time span (15min)");
        cmd->add_option("--timeout", a.timeout, "Stop the job after this time span (1h, infinity)");
        cmd->add_option("--persistent", a.persistent, "yes: run a missed run after downtime");
        cmd->add_option("--on-failure", a.on_failure, "mail: a failed run mails jobs.failure_mail_to; log: only log it")
            ->check(CLI::IsMember({"log", "mail"}));
    };
    static SetArgs set_args;
    auto* set_cmd = jobs_cmd->add_subcommand("set", "Change a job's times (validated) or options");
    add_set_options(set_cmd, set_args);
    set_cmd->add_flag("--no-randomized-delay", set_args.no_randomized_delay, "Remove the random delay");
    set_cmd->callback([&ctx] { set(ctx, set_args); });

    static AddArgs add_args;
    auto* add_cmd = jobs_cmd->add_subcommand("add", "Add a job of your own: a pmx subcommand or a program of pmx's libexec dir");
    add_set_options(add_cmd, add_args.set);
    add_cmd->add_option("--command", add_args.command, "The command: \"pmx db check\" or \"PROGRAM ARGS\"")->required();
    add_cmd->add_flag("--disabled", add_args.disabled, "Add it disabled");
    add_cmd->callback([&ctx] { add(ctx, add_args); });

    static std::string remove_name;
    jobs_cmd->add_subcommand("remove", "Remove a job made with pmx jobs add")
        ->callback([&ctx] { remove(ctx, remove_name); })
        ->add_option("NAME", remove_name, "Job name")
        ->required();

    static std::string notify_name;
    static bool notify_print = false;
    auto* notify_cmd = jobs_cmd->add_subcommand(
        "notify-failure", "Mail jobs.failure_mail_to that a job failed, through pmx-queued (run by the job's OnFailure= unit)");
    notify_cmd->add_option("NAME", notify_name, "Job name")->required();
    notify_cmd->add_flag("--print", notify_print, "Print the mail instead of queueing it");
    notify_cmd->add_flag("--json", ctx.json, "Print JSON");
    notify_cmd->callback([&ctx] { notify_failure(ctx, notify_name, notify_print); });

    auto* check_cmd = jobs_cmd->add_subcommand("check", "Check the job files and every calendar expression (exit 1: problems)");
    check_cmd->add_flag("--json", ctx.json, "Print JSON");
    check_cmd->callback([&ctx] { check(ctx); });
}

}  // namespace pmx::cli
