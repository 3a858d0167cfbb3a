// pmx status [SERVICE...]: each service's unit state from systemd and, when it runs, what
// the daemon reports about itself over its own bus name. Exit codes as systemctl is-active.
#include <fmt/format.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "context.hpp"
#include "output.hpp"
#include "services/registry.hpp"
#include "bus/daemon_client.hpp"
#include "systemd/manager.hpp"
#include "systemd/timer_state.hpp"
#include "systemd/units.hpp"

namespace pmx::cli {

namespace {

namespace sd = pmx::systemd;

struct Row {
    const ServiceInfo* service = nullptr;
    sd::UnitProperties unit;
    std::optional<bus::DaemonStatus> daemon;  // only when the unit is active and the daemon answered
    std::string daemon_error;                // why an active unit's daemon did not answer
};

std::string dash_if_empty(std::string s) { return s.empty() ? "-" : s; }

std::string render_table(const std::vector<Row>& rows) {
    Table t({"SERVICE", "ACTIVE", "SINCE", "PID", "MEMORY", "CONFIG"});
    for (const auto& r : rows) {
        const auto& u = r.unit;
        t.add({u.unit, sd::active_column(u), format_timestamp_usec(sd::since_usec(u)),
               u.main_pid ? std::to_string(u.main_pid) : "-", u.memory_bytes ? format_bytes(*u.memory_bytes) : "-",
               r.daemon ? std::to_string(r.daemon->config_generation) : "-"});
    }
    return t.render();
}

// One line per service under the table: what it says it does, its version, where it listens,
// its counters; or why it is not running. "" when the table already says it all (stopped cleanly).
std::string detail_line(const Row& r) {
    const auto& u = r.unit;
    std::vector<std::string> parts;
    if (!sd::is_active(u.active_state)) {
        auto summary = sd::failure_summary(u);
        // Stopped cleanly: the table says it all, and the last STATUS= is a stale "Stopping".
        if (u.active_state == "inactive" && summary == sd::active_column(u)) return "";
        parts.push_back(std::move(summary));
        if (!u.status_text.empty()) parts.push_back("last status: " + u.status_text);
    } else if (r.daemon) {
        const auto& d = *r.daemon;
        parts.push_back(dash_if_empty(d.status_text));
        if (!d.version.empty()) parts.push_back("version " + d.version);
        if (!d.listen.empty() && d.status_text.find(d.listen) == std::string::npos) parts.push_back("listen " + d.listen);
        if (auto c = sd::format_counters(d.counters); !c.empty()) parts.push_back(c);
    } else {
        parts.push_back(fmt::format("- (daemon not answering on {})", r.service->bus_name));
        if (!u.status_text.empty()) parts.push_back(u.status_text);
    }
    std::string out = fmt::format("{}: ", u.unit);
    for (std::size_t i = 0; i < parts.size(); ++i) {
        if (i) out += "; ";
        out += parts[i];
    }
    return out;
}

std::string json_daemon(const bus::DaemonStatus& d) {
    std::string counters;
    for (const auto& [name, value] : d.counters) {
        if (!counters.empty()) counters += ", ";
        counters += fmt::format("{}: {}", json_quote(name), value);
    }
    return fmt::format(
        "{{\"version\": {}, \"config_generation\": {}, \"config_loaded_usec\": {}, \"status_text\": {}, "
        "\"listen\": {}, \"counters\": {{{}}}}}",
        json_quote(d.version), d.config_generation, d.config_loaded_usec, json_quote(d.status_text),
        json_quote(d.listen), counters);
}

std::string render_json(const std::vector<Row>& rows) {
    std::string out = "[";
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& r = rows[i];
        const auto& u = r.unit;
        out += i ? ",\n  " : "\n  ";
        out += fmt::format(
            "{{\"unit\": {}, \"id\": {}, \"description\": {}, \"load_state\": {}, \"active_state\": {}, "
            "\"sub_state\": {}, \"unit_file_state\": {}, \"since_usec\": {}, \"main_pid\": {}, "
            "\"memory_bytes\": {}, \"result\": {}, \"exec_main_code\": {}, \"exec_main_status\": {}, "
            "\"status_text\": {}, \"daemon\": {}, \"daemon_error\": {}}}",
            json_quote(u.unit), json_quote(r.service->id), json_quote(r.service->description),
            json_quote(u.load_state), json_quote(u.active_state), json_quote(u.sub_state),
            json_quote(u.unit_file_state), sd::since_usec(u), u.main_pid,
            u.memory_bytes ? std::to_string(*u.memory_bytes) : "null", json_quote(u.result), u.exec_main_code,
            u.exec_main_status, json_quote(u.status_text), r.daemon ? json_daemon(*r.daemon) : "null",
            r.daemon_error.empty() ? "null" : json_quote(r.daemon_error));
    }
    out += rows.empty() ? "]\n" : "\n]\n";
    return out;
}

}  // namespace

void add_status_command(CLI::App& app, Context& ctx) {
    auto services = std::make_shared<std::vector<std::string>>();
    auto* sub = app.add_subcommand(
        "status",
        "Show each service's state and what its daemon reports (exit 3: not all active, 4: not installed)");
    sub->add_option("service", *services,
                    "Services: milter, ipblockd, queued, avd, httpd (also pmx-NAME, pmx-NAME.service or an alias); "
                    "none means all");
    sub->footer("Exit code as systemctl is-active: 0 when every listed service is active, 3 when one is not\n"
                "(inactive, failed, activating), 4 when a service's unit is not installed.\n"
                "With --json (before or after 'status'): an array of objects, one per service.\n"
                "With -q: no output, only the exit code.");
    sub->callback([&ctx, services] {
        auto sel = sd::select_services(*services);
        if (!sel) throw CommandError(sel.error().message, 2);
        auto m = sd::Manager::connect(ctx.scope());
        if (!m) throw CommandError(m.error().message, 1);

        std::vector<Row> rows;
        for (const auto* s : sel->services) {
            Row r;
            r.service = s;
            auto p = m->unit_properties(s->unit);
            if (!p) throw CommandError(p.error().message, 1);
            r.unit = std::move(p).value();
            if (sd::is_active(r.unit.active_state)) {
                auto d = bus::read_daemon_status(m->bus(), s->bus_name);
                if (d) r.daemon = std::move(d).value();
                else r.daemon_error = d.error().message;
            }
            rows.push_back(std::move(r));
        }

        std::vector<sd::UnitProperties> units;
        for (const auto& r : rows) units.push_back(r.unit);
        ctx.exit_code = sd::status_exit_code(units);

        if (ctx.json) {
            fmt::print("{}", render_json(rows));
            return;
        }
        if (ctx.quiet) return;
        std::string out = render_table(rows);
        std::string details;
        for (const auto& r : rows)
            if (auto d = detail_line(r); !d.empty()) details += d + '\n';
        if (!details.empty()) out += '\n' + details;
        // Scheduled jobs whose last run failed (pmx-job-*.service in the failed state).
        const std::vector<std::string> failed_state{"failed"}, job_units{"pmx-job-*.service"};
        if (auto failed = sd::list_units(*m, failed_state, job_units); failed && !failed->empty())
            out += fmt::format("\njobs: {} failed (pmx jobs list)\n", failed->size());
        fmt::print("{}", out);
    });
}

}  // namespace pmx::cli
