// pmx start|stop|restart|reload|enable|disable [SERVICE...]: jobs and unit files through
// the systemd manager. No service means the whole gateway (pmx.target).
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "context.hpp"
#include "services/registry.hpp"
#include "systemd/journal.hpp"
#include "systemd/manager.hpp"
#include "systemd/units.hpp"

namespace pmx::cli {

namespace {

namespace sd = pmx::systemd;

constexpr const char* kServicesHelp =
    "Services: milter, ipblockd, queued, avd, httpd (also pmx-NAME, pmx-NAME.service or an alias); "
    "none means the whole gateway";
constexpr std::size_t kJournalLines = 10;

struct Options {
    std::vector<std::string> services;
    double timeout_sec = 90;
    bool now = false;
};

sd::Selection select(const std::vector<std::string>& args) {
    auto s = sd::select_services(args);
    if (!s) throw CommandError(s.error().message, 2);
    return std::move(s).value();
}

sd::Manager connect(const Context& ctx) {
    auto m = sd::Manager::connect(ctx.scope());
    if (!m) throw CommandError(m.error().message, 1);
    return std::move(m).value();
}

std::uint64_t realtime_now_usec() {
    using namespace std::chrono;
    return static_cast<std::uint64_t>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

// Why a unit is not where the job should have left it: its state and its last log lines, on stderr.
// since_usec prefers the lines logged since the command began; with none, the last ones at all.
void explain_unit(sd::Manager& m, const std::string& unit, std::uint64_t since_usec) {
    std::fflush(stdout);  // keep "Started x" lines before the explanation when both go to one pipe
    auto p = m.unit_properties(unit);
    if (!p) {
        fmt::print(stderr, "{}\n", p.error().message);
        return;
    }
    fmt::print(stderr, "{}: {}\n", unit, sd::failure_summary(*p));
    if (p->load_state == "not-found") return;
    sd::JournalQuery q{.unit = unit, .lines = kJournalLines, .since_usec = since_usec, .invocation_id = {}};
    auto lines = sd::unit_journal(q);
    if (lines && lines->empty() && since_usec) {
        q.since_usec = 0;
        lines = sd::unit_journal(q);
    }
    if (!lines) {
        fmt::print(stderr, "{}, ignoring\n", lines.error().message);
        return;
    }
    for (const auto& l : *lines) fmt::print(stderr, "  {}\n", l);
}

// Runs one job per unit of the selection, waits, reports. Returns the exit code.
int run_action(const Context& ctx, sd::Manager& m, sd::UnitAction action, const sd::Selection& sel,
               std::chrono::microseconds timeout) {
    const auto units = sd::job_units(sel);
    // For the whole gateway, also wait for the jobs pmx.target pulled in for its services.
    std::vector<std::string> settle;
    if (sel.whole_gateway)
        for (const auto* s : sel.services) settle.emplace_back(s->unit);

    const auto began = realtime_now_usec();
    auto outcomes = m.run_jobs(action, units, settle, timeout);
    if (!outcomes) throw CommandError(outcomes.error().message, 1);

    int code = 0;
    for (const auto& o : *outcomes) {
        if (o.ok()) {
            if (!ctx.quiet) fmt::print("{} {}\n", sd::action_done(action), o.unit);
            continue;
        }
        code = 1;
        std::fflush(stdout);
        fmt::print(stderr, "{}\n", o.describe(action));
        if (o.error.empty()) explain_unit(m, o.unit, began);
    }

    // A target's start job succeeds even when a service it wants fails: look at each.
    if (sel.whole_gateway && (action == sd::UnitAction::Start || action == sd::UnitAction::Restart)) {
        auto target = m.unit_properties(kTargetUnit);
        if (!target) throw CommandError(target.error().message, 1);
        std::vector<sd::UnitProperties> services;
        for (const auto* s : sel.services) {
            auto p = m.unit_properties(s->unit);
            if (!p) throw CommandError(p.error().message, 1);
            services.push_back(std::move(p).value());
        }
        for (const auto* p : sd::missing_after_target_start(services, *target)) {
            code = 1;
            std::fflush(stdout);
            fmt::print(stderr, "{} did not start with {}.\n", p->unit, kTargetUnit);
            explain_unit(m, p->unit, began);
        }
    }
    return code;
}

std::chrono::microseconds timeout_of(const Options& o) {
    return std::chrono::microseconds(static_cast<std::int64_t>(o.timeout_sec * 1e6));
}

void add_job_command(CLI::App& app, Context& ctx, const char* name, sd::UnitAction action, const char* help) {
    auto opts = std::make_shared<Options>();
    auto* sub = app.add_subcommand(name, help);
    sub->add_option("service", opts->services, kServicesHelp);
    sub->add_option("--timeout", opts->timeout_sec, "Seconds to wait for the jobs to finish")
        ->default_val(90)
        ->check(CLI::PositiveNumber);
    sub->callback([&ctx, opts, action] {
        auto sel = select(opts->services);
        auto m = connect(ctx);
        ctx.exit_code = run_action(ctx, m, action, sel, timeout_of(*opts));
    });
}

void add_reload_command(CLI::App& app, Context& ctx) {
    auto opts = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        "reload",
        "Reload services (their configuration) through systemd; without a service, every pmx service that is active");
    sub->add_option("service", opts->services, kServicesHelp);
    sub->add_option("--timeout", opts->timeout_sec, "Seconds to wait for the jobs to finish")
        ->default_val(90)
        ->check(CLI::PositiveNumber);
    sub->callback([&ctx, opts] {
        auto sel = select(opts->services);
        auto m = connect(ctx);
        if (sel.whole_gateway) {
            // Reload is no job for a target: reload each service that runs.
            sd::Selection active;
            for (const auto* s : sel.services) {
                auto p = m.unit_properties(s->unit);
                if (!p) throw CommandError(p.error().message, 1);
                if (sd::is_active(p->active_state)) active.services.push_back(s);
            }
            if (active.services.empty()) {
                if (!ctx.quiet) fmt::print("No pmx service is active; nothing to reload.\n");
                return;
            }
            sel = std::move(active);
        }
        ctx.exit_code = run_action(ctx, m, sd::UnitAction::Reload, sel, timeout_of(*opts));
    });
}

void add_unit_file_command(CLI::App& app, Context& ctx, bool enable) {
    auto opts = std::make_shared<Options>();
    auto* sub = app.add_subcommand(
        enable ? "enable" : "disable",
        enable ? "Enable services so they start with the gateway (pmx.target); without a service, pmx.target and "
                 "every service"
               : "Disable services so they no longer start with the gateway; without a service, pmx.target and "
                 "every service");
    sub->add_option("service", opts->services, kServicesHelp);
    sub->add_flag("--now", opts->now, enable ? "Also start them" : "Also stop them");
    sub->add_option("--timeout", opts->timeout_sec, "With --now: seconds to wait for the jobs to finish")
        ->default_val(90)
        ->check(CLI::PositiveNumber);
    sub->callback([&ctx, opts, enable] {
        auto sel = select(opts->services);
        auto m = connect(ctx);
        const auto files = sd::unit_files(sel);
        auto res = enable ? m.enable_unit_files(files) : m.disable_unit_files(files);
        if (!res) throw CommandError(res.error().message, 1);
        if (!ctx.quiet)
            for (const auto& c : res->changes) fmt::print("{}\n", sd::format_unit_file_change(c));
        if (enable && !res->carries_install_info)
            fmt::print(stderr,
                       "The unit files have no installation config (WantedBy=, RequiredBy=, Also=, Alias= in "
                       "[Install]); enabling them changes nothing.\n");
        if (opts->now)
            ctx.exit_code = run_action(ctx, m, enable ? sd::UnitAction::Start : sd::UnitAction::Stop, sel,
                                       timeout_of(*opts));
    });
}

}  // namespace

void add_service_commands(CLI::App& app, Context& ctx) {
    add_job_command(app, ctx, "start", sd::UnitAction::Start,
                    "Start services and wait until they run; without a service, the whole gateway (pmx.target)");
    add_job_command(app, ctx, "stop", sd::UnitAction::Stop,
                    "Stop services and wait until they have stopped; without a service, the whole gateway");
    add_job_command(app, ctx, "restart", sd::UnitAction::Restart,
                    "Restart services and wait until they run again; without a service, the whole gateway");
    add_reload_command(app, ctx);
    add_unit_file_command(app, ctx, true);
    add_unit_file_command(app, ctx, false);
}

}  // namespace pmx::cli
