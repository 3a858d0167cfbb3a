// pmx log: the most recent messages the milter judged, one line each, with filters.
#include <fmt/format.h>

#include <algorithm>

#include <string>

#include "commands.hpp"
#include "time_option.hpp"
#include "output.hpp"
#include "store/message_log.hpp"
#include "store/store_config.hpp"
#include "store/time_filter.hpp"

namespace pmx::cli {

namespace {

std::string entry_json(const store::LogEntry& e) {
    std::string rcpts, rules;
    for (const auto& r : e.recipients)
        rcpts += fmt::format("{}{{\"address\":{},\"verdict\":{},\"rule\":{},\"detail\":{}}}", rcpts.empty() ? "" : ",",
                             json_quote(r.address), json_quote(policy::outcome_name(r.verdict)), json_quote(r.rule),
                             json_quote(r.detail));
    for (const auto& r : e.rules) rules += (rules.empty() ? "" : ",") + json_quote(r);
    return fmt::format(
        "{{\"id\":{},\"time_us\":{},\"time\":{},\"queue_id\":{},\"client_ip\":{},\"sender\":{},\"size\":{},"
        "\"score\":{},\"rules\":[{}],\"elapsed_us\":{},\"node\":{},\"quarantine_id\":{},\"recipients\":[{}]}}",
        e.id, e.time_us, json_quote(format_timestamp_usec(static_cast<unsigned long long>(e.time_us))),
        json_quote(e.queue_id), json_quote(e.client_ip), json_quote(e.sender), e.size,
        e.score ? fmt::format("{}", *e.score) : "null", rules, e.elapsed_us, json_quote(e.node),
        e.quarantine_id ? std::to_string(*e.quarantine_id) : "null", rcpts);
}

// One verdict when every recipient got the same, else each in recipient order.
std::string verdicts(const store::LogEntry& e) {
    std::string out;
    bool same = true;
    for (const auto& r : e.recipients) {
        same = same && r.verdict == e.recipients.front().verdict;
        out += (out.empty() ? "" : ",") + std::string(policy::outcome_name(r.verdict));
    }
    if (e.recipients.empty()) return "-";
    return same ? std::string(policy::outcome_name(e.recipients.front().verdict)) : out;
}

// Why: the rule that decided and its detail (reply or quarantine reason), once per distinct answer.
std::string why(const store::LogEntry& e) {
    std::vector<std::string> seen;
    for (const auto& r : e.recipients) {
        std::string one = r.rule.empty() ? "no final rule: accepted" : "rule \"" + r.rule + "\"";
        if (!r.detail.empty()) one += ": " + r.detail;
        if (std::find(seen.begin(), seen.end(), one) == seen.end()) seen.push_back(one);
    }
    std::string out;
    for (const auto& s : seen) out += (out.empty() ? "" : "; ") + s;
    return out.empty() ? "-" : printable(out);
}

struct LogArgs {
    std::string sender, recipient, verdict, ip, since, until;
    int limit = 50;
};

void run(Context& ctx, const LogArgs& a) {
    store::LogFilter f;
    f.sender = a.sender;
    f.recipient = a.recipient;
    if (!a.verdict.empty()) f.verdict = store::parse_verdict(a.verdict);
    f.client_ip = a.ip;
    f.since_us = time_arg(a.since, "--since");
    f.until_us = time_arg(a.until, "--until");
    f.limit = a.limit;
    auto db = store::open_configured_database();
    if (!db) throw CommandError(db.error().message);
    auto rows = store::recent_log(*db, f);
    if (!rows) throw CommandError(rows.error().message);

    if (ctx.json) {
        std::string out = "[";
        for (const auto& e : *rows) out += (out.size() > 1 ? ",\n " : "") + entry_json(e);
        fmt::print("{}]\n", out);
        return;
    }
    if (rows->empty()) {
        if (!ctx.quiet) fmt::print("No logged messages match.\n");
        return;
    }
    Table t({"TIME", "QUEUE-ID", "CLIENT", "SENDER", "RECIPIENTS", "VERDICT", "SCORE", "SIZE", "MS", "WHY"});
    for (const auto& e : *rows) {
        std::string rcpts;
        for (const auto& r : e.recipients) rcpts += (rcpts.empty() ? "" : ",") + r.address;
        t.add({format_timestamp_usec(static_cast<unsigned long long>(e.time_us)),
               e.queue_id.empty() ? "-" : printable(e.queue_id), e.client_ip.empty() ? "-" : e.client_ip,
               e.sender.empty() ? "<>" : printable(e.sender), printable(rcpts), verdicts(e),
               e.score ? fmt::format("{:.1f}", *e.score) : "-", format_bytes(e.size),
               fmt::format("{:.0f}", static_cast<double>(e.elapsed_us) / 1000), why(e)});
    }
    fmt::print("{}", t.render());
}

}  // namespace

void add_log_command(CLI::App& app, Context& ctx) {
    static LogArgs args;
    auto* log = app.add_subcommand("log", "Show the message log: the most recent messages and their verdicts");
    log->add_option("--sender", args.sender, "Sender contains this (case-insensitive)");
    log->add_option("--recipient", args.recipient, "A recipient contains this (case-insensitive)");
    log->add_option("--verdict", args.verdict, "A recipient got this verdict")
        ->check(CLI::IsMember({"accept", "quarantine", "reject", "tempfail", "discard"}));
    log->add_option("--ip", args.ip, "From this client IP address");
    log->add_option("--since", args.since, "At or after this time: 2026-11-25, \"2026-11-25 10:00\" (UTC), -2h, -3d");
    log->add_option("--until", args.until, "Before this time (same forms)");
    log->add_option("--limit", args.limit, "At most this many messages (default 50)")->check(CLI::Range(1, 100000));
    log->add_flag("--json", ctx.json, "Print JSON");
    log->footer("VERDICT is one word when every recipient got the same, else one per recipient in RECIPIENTS order.");
    log->callback([&ctx] { run(ctx, args); });
}

}  // namespace pmx::cli
