// pmx report: the consolidated message-log reports (lib/report), as a table, CSV or JSON,
// and `pmx report consolidate`, which the report-consolidate job runs every hour.
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "output.hpp"
#include "report/consolidate.hpp"
#include "report/report_format.hpp"
#include "report/reports.hpp"
#include "store/store_config.hpp"
#include "time_option.hpp"

namespace pmx::cli {

namespace {

struct ReportArgs {
    std::string from, to, by, node;
    int limit = 10;
    bool csv = false;
};

struct ConsolidateArgs {
    std::string rebuild_from;
    double spam_score = 5.0;
};

store::Database open_db() {
    auto db = store::open_configured_database();
    if (!db) throw CommandError(db.error().message);
    return std::move(*db);
}

void show(Context& ctx, const report::ReportInfo& info, const ReportArgs& a) {
    if (a.csv && ctx.json) throw CommandError("--csv and --json exclude each other", 2);
    report::Query q;
    q.name = std::string(info.name);
    q.by = a.by.empty() ? "hour" : a.by;
    std::int64_t now = store::now_us();
    // Default range: the last day by hour, the last 30 days by day (the open period included).
    auto from = time_arg(a.from, "--from");
    auto to = time_arg(a.to, "--to");
    q.to_us = to.value_or(now + 1);
    q.from_us = from.value_or(q.to_us - (q.by == "day" ? 30 * report::day_us : report::day_us));
    if (q.from_us >= q.to_us) throw CommandError("--from must be before --to", 2);
    q.limit = a.limit;
    if (!a.node.empty()) q.node = a.node;
    auto db = open_db();
    auto r = report::run_report(db, q);
    if (!r) throw CommandError(r.error().message);
    if (ctx.json) {
        fmt::print("{}", report::to_json(*r));
        return;
    }
    if (a.csv) {
        fmt::print("{}", report::to_csv(*r));
        return;
    }
    if (r->rows.empty()) {
        if (!ctx.quiet)
            fmt::print("No data from {} to {} (run `pmx report consolidate` to add up the latest mail).\n",
                       report::period_label(q.from_us), report::period_label(q.to_us));
        return;
    }
    std::vector<std::string> header;
    for (const auto& c : r->columns) header.push_back(c.name);
    for (auto& h : header)
        for (auto& ch : h) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    Table t(header);
    for (const auto& row : r->rows) {
        std::vector<std::string> cells;
        for (const auto& cell : row) cells.push_back(printable(cell));
        t.add(std::move(cells));
    }
    fmt::print("{}", t.render());
}

void list(Context& ctx) {
    if (ctx.json) {
        std::string out = "[";
        for (const auto& r : report::report_list())
            out += fmt::format("{}{{\"name\":{},\"kind\":{},\"description\":{}}}", out.size() > 1 ? ",\n " : "",
                               json_quote(r.name), json_quote(r.kind == report::Kind::Series ? "series" : "top"),
                               json_quote(r.description));
        fmt::print("{}]\n", out);
        return;
    }
    Table t({"REPORT", "KIND", "DESCRIPTION"});
    for (const auto& r : report::report_list())
        t.add({std::string(r.name), r.kind == report::Kind::Series ? "series" : "top", std::string(r.description)});
    fmt::print("{}", t.render());
}

void consolidate(Context& ctx, const ConsolidateArgs& a) {
    report::ConsolidateOptions o;
    o.spam_score = a.spam_score;
    o.rebuild_from_us = time_arg(a.rebuild_from, "--rebuild-from");
    bool tty = !ctx.json && !ctx.quiet && isatty(STDERR_FILENO);
    auto started = std::chrono::steady_clock::now();
    auto last = started;
    o.progress = [&](std::int64_t done, std::int64_t total) {
        auto t = std::chrono::steady_clock::now();
        if (!tty || t - last < std::chrono::milliseconds(500)) return;
        last = t;
        fmt::print(stderr, "\rConsolidating: {}/{} hours", done, total);
        std::fflush(stderr);
    };
    auto db = open_db();
    auto s = report::consolidate(db, store::now_us(), o);
    if (tty && last != started) fmt::print(stderr, "\n");
    if (!s) throw CommandError(s.error().message);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (ctx.json) {
        fmt::print(
            "{{\"log_rows\":{},\"hours\":{},\"days\":{},\"period_rows\":{},\"count_rows\":{},\"from\":{},\"to\":{},"
            "\"final_until\":{},\"seconds\":{:.3f}}}\n",
            s->log_rows, s->hours, s->days, s->period_rows, s->count_rows, json_quote(report::period_label(s->from_us)),
            json_quote(report::period_label(s->to_us)), json_quote(report::period_label(s->final_until_us)), secs);
        return;
    }
    if (!ctx.quiet)
        fmt::print("Consolidated {} message-log rows into {} hours and {} days ({} to {}) in {:.2f}s.\n", s->log_rows,
                   s->hours, s->days, report::period_label(s->from_us), report::period_label(s->to_us), secs);
}

}  // namespace

void add_report_commands(CLI::App& app, Context& ctx) {
    static ReportArgs args;
    static ConsolidateArgs cargs;
    auto* report = app.add_subcommand("report", "Reports on the mail judged: verdicts, rates, top relays, senders, ...");
    report->require_subcommand(1);
    report->footer("Reports read the hourly and daily tables `pmx report consolidate` fills (the report-consolidate "
                   "job runs it every hour). See pmx-report(1).");

    auto* ls = report->add_subcommand("list", "List the reports");
    ls->add_flag("--json", ctx.json, "Print JSON");
    ls->callback([&ctx] { list(ctx); });

    auto* cons = report->add_subcommand("consolidate", "Add up the message log into the hourly and daily tables");
    cons->add_option("--rebuild-from", cargs.rebuild_from,
                     "Redo every period from this time, not only the open ones (2026-11-25, -30d, ...)");
    cons->add_option("--spam-score", cargs.spam_score, "A message with at least this score counts as spam (default 5)");
    cons->add_flag("--json", ctx.json, "Print JSON");
    cons->callback([&ctx] { consolidate(ctx, cargs); });

    for (const auto& info : report::report_list()) {
        auto* sub = report->add_subcommand(std::string(info.name), std::string(info.description));
        sub->add_option("--from", args.from, "Periods from this time: 2026-11-25, \"2026-11-25 10:00\" (UTC), -2h, -3d");
        sub->add_option("--to", args.to, "... up to this time (default: now)");
        sub->add_option("--by", args.by, info.kind == report::Kind::Series
                                             ? "One row per hour (default) or per day"
                                             : "Add up hourly (default, exact to the hour) or daily counts")
            ->check(CLI::IsMember({"hour", "day"}));
        if (info.kind == report::Kind::Top)
            sub->add_option("--limit", args.limit, "At most this many rows (default 10)")->check(CLI::Range(1, 100000));
        sub->add_option("--node", args.node, "Only this gateway's numbers (default: all nodes added up)");
        sub->add_flag("--csv", args.csv, "Print CSV (RFC 4180)");
        sub->add_flag("--json", ctx.json, "Print JSON");
        sub->callback([&ctx, &info] { show(ctx, info, args); });
    }
}

}  // namespace pmx::cli
