// pmx spam: check (score a message and explain it), rules (spam_rules_command.cpp),
// learn and forget (spam_learn_commands.cpp), dnsbl-check (spam_dnsbl_command.cpp).
#include <fmt/format.h>

#include "commands.hpp"
#include "config/loader.hpp"
#include "mail/mime.hpp"
#include "message_input.hpp"
#include "output.hpp"
#include "policy/address_match.hpp"
#include "spam/scanner.hpp"
#include "store/store_config.hpp"

namespace pmx::cli {

namespace {

struct CheckOptions {
    std::vector<std::string> messages;
    std::string client_ip;
    std::string from;
    std::string bayes_user;
    bool no_bayes = false;
};

std::string hits_json(const std::vector<spam::Hit>& hits) {
    std::string out = "[";
    for (const auto& h : hits)
        out += fmt::format("{}{{\"name\":{},\"score\":{:.3f},\"description\":{}}}", out.size() > 1 ? "," : "",
                           json_quote(h.name), h.score, json_quote(h.description));
    return out + "]";
}

void print_report(const std::string& name, const spam::Report& r) {
    fmt::print("{}: {} (score {:.1f}, required {:.1f})\n", name, r.is_spam() ? "SPAM" : "not spam", r.score,
               r.required);
    if (!r.hits.empty()) {
        Table t({"POINTS", "RULE", "DESCRIPTION"});
        for (const auto& h : r.hits) t.add({fmt::format("{:.1f}", h.score), h.name, printable(h.description)});
        fmt::print("{}", t.render());
    }
    if (r.bayes_probability) fmt::print("Bayes: spam probability {:.3f} ({} tokens)\n", *r.bayes_probability, r.tokens.size());
    else fmt::print("Bayes: no answer (off, or fewer messages learned than bayes.min_spam/min_ham)\n");
    for (const auto& p : r.problems) fmt::print("note: {}\n", p);
    fmt::print("Time: {:.2f} ms (blocklists {:.2f} ms)\n\n", r.elapsed.count() / 1000.0, r.dnsbl_elapsed.count() / 1000.0);
}

void run_check(const CheckOptions& o, Context& ctx) {
    auto layout = config::Layout::from_environment();
    auto snap = config::load(layout);
    if (!snap) throw CommandError(fmt::format("Configuration is invalid:\n{}", snap.error().message));
    if (!o.client_ip.empty() && !policy::IpAddress::parse(o.client_ip))
        throw CommandError(fmt::format("--client-ip: \"{}\" is not an IP address", o.client_ip), 2);

    auto scanner = spam::Scanner::from_config(*snap, layout);
    if (!scanner) throw CommandError(scanner.error().message);

    // Bayes reads the gateway's own token store; without one (or with --no-bayes) scores are
    // rules and blocklists only, and the report says so.
    std::optional<store::Database> db;
    std::string db_problem;
    if (!o.no_bayes && (*scanner)->bayes_settings().enabled) {
        auto opened = store::open_configured_database(nullptr, {.synchronous_full = false});
        if (opened) db.emplace(std::move(*opened));
        else db_problem = "bayes: " + opened.error().message;
    }
    const std::string owner = spam::bayes::owner_for((*scanner)->bayes_settings(), o.bayes_user);
    const auto limits = parse_limits(*snap);

    std::string json = "[";
    for (const auto& path : o.messages) {
        const std::string raw = read_message(path);
        const auto message = mail::parse_message(raw, limits);
        auto report = (*scanner)->scan({.message = message,
                                        .raw = raw,
                                        .client_ip = o.client_ip,
                                        .envelope_from = o.from,
                                        .bayes_snapshot = nullptr,
                                        .bayes_db = db ? &*db : nullptr,
                                        .bayes_owner = owner});
        if (!db_problem.empty()) report.problems.push_back(db_problem);
        if (ctx.json) {
            json += fmt::format(
                "{}{{\"message\":{},\"spam\":{},\"score\":{:.3f},\"required\":{:.1f},\"hits\":{},\"bayes\":{},"
                "\"problems\":[{}],\"elapsed_us\":{},\"header\":{}}}",
                json.size() > 1 ? "," : "", json_quote(path), report.is_spam() ? "true" : "false", report.score,
                report.required, hits_json(report.hits),
                report.bayes_probability ? fmt::format("{:.4f}", *report.bayes_probability) : "null",
                [&] {
                    std::string ps;
                    for (const auto& p : report.problems) ps += (ps.empty() ? "" : ",") + json_quote(p);
                    return ps;
                }(),
                report.elapsed.count(), json_quote(spam::status_header(report)));
        } else if (!ctx.quiet) {
            print_report(path == "-" ? "<stdin>" : path, report);
        }
    }
    if (ctx.json) fmt::print("{}]\n", json);
}

}  // namespace

void add_spam_commands(CLI::App& app, Context& ctx) {
    auto* spam = app.add_subcommand("spam", "Anti-spam engine: check messages, list rules, train Bayes");
    spam->require_subcommand(1);

    auto o = std::make_shared<CheckOptions>();
    auto* check = spam->add_subcommand(
        "check", "Score messages as the milter would: every rule hit with its points, Bayes, blocklists, time taken");
    check->add_option("MESSAGE", o->messages, "Message files (RFC 5322); - reads the standard input")->required();
    check->add_option("--client-ip", o->client_ip, "Client address to look up in the DNS blocklists (none by default)");
    check->add_option("--from", o->from, "Envelope sender (MAIL FROM) for rules that read it");
    check->add_option("--bayes-user", o->bayes_user, "Use this user's Bayes tokens too (with bayes.per_user)");
    check->add_flag("--no-bayes", o->no_bayes, "Leave Bayes out (rules and blocklists only)");
    check->callback([o, &ctx] { run_check(*o, ctx); });

    add_spam_rules_command(*spam, ctx);
    add_spam_learn_commands(*spam, ctx);
    add_spam_dnsbl_command(*spam, ctx);
}

}  // namespace pmx::cli
