// pmx policy check|test: validate policy.toml, and run it on a message without an MTA.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "commands.hpp"
#include "store/store_config.hpp"
#include "config/loader.hpp"
#include "message_input.hpp"
#include "mail/mime.hpp"
#include "output.hpp"
#include "policy/engine.hpp"
#include "policy/lists_for_cli.hpp"
#include "policy/memory_lists.hpp"
#include "store/lists_store.hpp"
#include "util/atomic_file.hpp"

// ---- SEAM(store): the lists `pmx policy test` uses (declared in lib/policy/lists_for_cli.hpp) ----
// The store's DatabaseLists on database.path, read as it is: never created or migrated from here.
// nullptr (the command then evaluates with empty lists and says so) when there is no database yet
// or it cannot be opened (e.g. no permission: /var/lib/pmx belongs to the pmx user).
namespace pmx::policy {
std::unique_ptr<ListLookup> open_lists_for_cli(const config::Snapshot& snapshot) {
    std::filesystem::path path = store::store_paths(snapshot).database;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return nullptr;
    store::DatabaseLists::Options options;
    options.open.migrate = false;
    options.open.chown_new_file_to_directory_owner = false;
    auto lists = store::DatabaseLists::open(path, options);
    if (!lists) {
        fmt::print(stderr, "pmx: Failed to open the allow/block lists: {}, ignoring\n", lists.error().message);
        return nullptr;
    }
    return std::move(*lists);
}
}  // namespace pmx::policy
// -------------------------------------------------------------------------------------------------

namespace pmx::cli {

namespace {

namespace fs = std::filesystem;

struct CheckOptions {
    std::string file;
};

struct TestOptions {
    std::string message;
    std::string from;
    bool from_given = false;
    std::vector<std::string> to;
    std::string ip, hostname, helo, auth;
    double spam_score = 0;
    std::vector<std::string> spam_rules;
    std::vector<std::string> viruses;
    bool unscannable = false;
    std::string policy_file;
};

config::Layout layout() { return config::Layout::from_environment(); }

policy::Policy load_or_throw(const std::string& file) {
    std::string path = file.empty() ? policy::policy_path(layout()).string() : file;
    auto text = read_file(path);
    if (!text) throw CommandError(text.error().message);
    auto p = policy::parse_policy(*text, path);
    if (!p) throw CommandError(fmt::format("Policy is invalid:\n{}", p.error().message));
    return std::move(*p);
}

// The policy's warnings, plus one about general.internal_domains when the policy needs it and it is empty.
std::vector<std::string> all_warnings(const policy::Policy& p, const config::Snapshot* snap) {
    auto out = p.warnings();
    if (snap && p.uses_internal_domains() && snap->strings("general.internal_domains").empty())
        out.push_back(fmt::format("{}: warning: general.internal_domains is empty in pmx.toml: no recipient is internal, "
                                  "so internal_recipient = true and direction \"inbound\"/\"internal\" never match",
                                  p.file()));
    return out;
}

void check(Context& ctx, const CheckOptions& o) {
    auto p = load_or_throw(o.file);
    auto snap = config::load(layout());
    auto warnings = all_warnings(p, snap ? &*snap : nullptr);
    if (ctx.json) {
        std::string ws;
        for (const auto& w : warnings) ws += (ws.empty() ? "" : ",") + json_quote(w);
        fmt::print("{{\"file\":{},\"rules\":{},\"disabled\":{},\"warnings\":[{}]}}\n", json_quote(p.file()), p.rule_count(),
                   p.disabled_count(), ws);
        return;
    }
    for (const auto& w : warnings) fmt::print(stderr, "{}\n", w);
    if (!ctx.quiet)
        fmt::print("Policy OK: {} rule{}{} ({})\n", p.rule_count(), p.rule_count() == 1 ? "" : "s",
                   p.disabled_count() ? fmt::format(", {} disabled", p.disabled_count()) : "", p.file());
}


std::vector<std::string> header_addresses(const mail::ParsedMessage& msg, std::string_view name) {
    std::vector<std::string> out;
    for (const auto& h : msg.headers)
        if (policy::iequals(h.name, name))
            for (auto& a : policy::extract_addresses(h.raw)) out.push_back(std::move(a));
    return out;
}

std::string json_strings(const std::vector<std::string>& v) {
    std::string out = "[";
    for (const auto& s : v) out += (out.size() > 1 ? "," : "") + json_quote(s);
    return out + "]";
}

std::string verdict_text(const policy::RecipientDecision& r) {
    using policy::Outcome;
    std::string out{policy::outcome_name(r.outcome)};
    switch (r.outcome) {
        case Outcome::Reject:
        case Outcome::Tempfail:
            out += fmt::format(" {}{}{} {}", r.smtp_code, r.smtp_xcode.empty() ? "" : " ", r.smtp_xcode, r.smtp_text);
            break;
        case Outcome::Quarantine: out += fmt::format(" ({})", r.quarantine_reason); break;
        case Outcome::Accept:
            if (!r.redirect_to.empty()) out += fmt::format(", redirected to {}", fmt::join(r.redirect_to, ", "));
            if (!r.quarantine_reason.empty()) out += fmt::format(", a copy quarantined ({})", r.quarantine_reason);
            break;
        case Outcome::Discard: break;
    }
    if (r.outcome != Outcome::Quarantine && r.outcome != Outcome::Accept && !r.quarantine_reason.empty())
        out += fmt::format(", a copy quarantined ({})", r.quarantine_reason);
    return out;
}

std::string edit_text(const policy::HeaderEdit& e) {
    switch (e.kind) {
        case policy::HeaderEditKind::Add: return fmt::format("add {}: {}", e.name, e.value);
        case policy::HeaderEditKind::Replace: return fmt::format("replace {}: {}", e.name, e.value);
        case policy::HeaderEditKind::Remove: return fmt::format("remove {}", e.name);
    }
    return "";
}

std::string edits_json(const std::vector<policy::HeaderEdit>& edits) {
    std::string out = "[";
    for (const auto& e : edits)
        out += fmt::format("{}{{\"edit\":{},\"name\":{},\"value\":{}}}", out.size() > 1 ? "," : "",
                           json_quote(policy::header_edit_name(e.kind)), json_quote(e.name), json_quote(e.value));
    return out + "]";
}

void print_json(const policy::Policy& p, const policy::Envelope& env, const policy::ScanFacts& scan,
                const policy::Decision& d, bool internal_sender, bool lists_connected) {
    std::string out = "{";
    out += fmt::format("\"policy\":{},", json_quote(p.file()));
    out += fmt::format(
        "\"envelope\":{{\"from\":{},\"to\":{},\"client_ip\":{},\"client_hostname\":{},\"helo\":{},\"auth_user\":{},"
        "\"internal_sender\":{}}},",
        json_quote(env.sender), json_strings(env.recipients), json_quote(env.client_ip), json_quote(env.client_hostname),
        json_quote(env.helo), json_quote(env.auth_user), internal_sender);
    out += fmt::format("\"scan\":{{\"spam_score\":{},\"spam_rules\":{},\"virus\":{},\"virus_names\":{},\"unscannable\":{}}},",
                       scan.spam_score ? fmt::format("{}", *scan.spam_score) : "null", json_strings(scan.spam_rules),
                       scan.virus, json_strings(scan.virus_names), scan.unscannable);
    out += fmt::format("\"lists_connected\":{},", lists_connected);
    out += "\"trace\":[";
    for (std::size_t i = 0; i < d.trace.size(); ++i) {
        const auto& t = d.trace[i];
        out += fmt::format("{}{{\"rule\":{},\"recipient\":{},\"matched\":{},\"why\":{},\"actions\":{}}}", i ? "," : "",
                           json_quote(t.rule), t.recipient.empty() ? "null" : json_quote(t.recipient), t.matched,
                           json_quote(t.why), json_strings(t.actions));
    }
    out += "],\"recipients\":[";
    for (std::size_t i = 0; i < d.recipients.size(); ++i) {
        const auto& r = d.recipients[i];
        out += fmt::format(
            "{}{{\"recipient\":{},\"outcome\":{},\"smtp_code\":{},\"smtp_xcode\":{},\"smtp_text\":{},"
            "\"quarantine_reason\":{},\"redirect_to\":{},\"decided_by\":{},\"header_edits\":{},\"subject_tag\":{}}}",
            i ? "," : "", json_quote(r.recipient), json_quote(policy::outcome_name(r.outcome)), json_quote(r.smtp_code),
            json_quote(r.smtp_xcode), json_quote(r.smtp_text), json_quote(r.quarantine_reason), json_strings(r.redirect_to),
            r.decided_by.empty() ? "null" : json_quote(r.decided_by), edits_json(r.header_edits), json_quote(r.subject_tag));
    }
    out += "],";
    out += fmt::format("\"header_edits\":{},\"subject_tag\":{},\"copies_differ\":{},\"add_recipients\":{},",
                       edits_json(d.header_edits), json_quote(d.subject_tag), d.copies_differ(),
                       json_strings(d.add_recipients));
    out += "\"notifications\":[";
    for (std::size_t i = 0; i < d.notifications.size(); ++i) {
        const auto& n = d.notifications[i];
        out += fmt::format("{}{{\"to\":{},\"template\":{},\"recipient\":{}}}", i ? "," : "",
                           n.to_admin ? "\"admin\"" : json_quote(n.to), json_quote(n.template_name),
                           n.recipient.empty() ? "null" : json_quote(n.recipient));
    }
    out += fmt::format("],\"remove_infected\":{}}}", d.remove_infected());
    fmt::print("{}\n", out);
}

void print_text(const policy::Policy& p, const std::string& message_name, const mail::ParsedMessage& msg,
                const policy::Envelope& env, const policy::ScanFacts& scan, const policy::Decision& d,
                bool internal_sender, bool lists_connected) {
    fmt::print("Message:   {} ({} bytes, {} part{}), subject \"{}\"\n", message_name, msg.size, msg.parts.size(),
               msg.parts.size() == 1 ? "" : "s", msg.subject);
    fmt::print("Envelope:  from {} to {}\n", env.sender.empty() ? "<>" : env.sender, fmt::join(env.recipients, ", "));
    std::string client;
    if (env.client_ip.empty()) client = "none (local submission)";
    else client = env.client_ip + (env.client_hostname.empty() ? "" : fmt::format(" ({})", env.client_hostname));
    if (!env.helo.empty()) client += fmt::format(", HELO {}", env.helo);
    fmt::print("Client:    {}, {}{}\n", client, env.auth_user.empty() ? "not authenticated" : "authenticated as " + env.auth_user,
               internal_sender ? ": internal sender" : ": external sender");
    std::string spam = scan.spam_score ? fmt::format("spam score {:.1f}{}", *scan.spam_score,
                                                     scan.spam_rules.empty() ? "" : fmt::format(" ({})", fmt::join(scan.spam_rules, ", ")))
                                       : "no spam score";
    std::string virus = scan.virus ? fmt::format("virus {}", fmt::join(scan.virus_names, ", ")) : "no virus";
    fmt::print("Scanners:  {}, {}{} (given on the command line; the scanners do not run here)\n", spam, virus,
               scan.unscannable ? ", unscannable" : "");
    fmt::print("Policy:    {} ({} rule{})\n", p.file(), p.rule_count(), p.rule_count() == 1 ? "" : "s");
    if (!lists_connected) fmt::print("Lists:     not available: allow/block list conditions match nothing\n");

    fmt::print("\nTrace:\n");
    for (const auto& t : d.trace) {
        fmt::print("  {} {}{}\n", t.matched ? "[match]" : "[ -- ] ", t.rule,
                   t.recipient.empty() ? "" : fmt::format("  (for {})", t.recipient));
        fmt::print("          {}\n", t.why);
        if (!t.actions.empty()) fmt::print("          actions: {}\n", fmt::join(t.actions, " | "));
    }
    if (d.trace.empty()) fmt::print("  (no rule ran)\n");

    fmt::print("\nVerdict:\n");
    std::size_t width = 0;
    for (const auto& r : d.recipients) width = std::max(width, r.recipient.size());
    for (const auto& r : d.recipients)
        fmt::print("  {:<{}}  {}  [{}]\n", r.recipient, width, verdict_text(r),
                   r.decided_by.empty() ? "no rule decided: accepted" : "rule \"" + r.decided_by + "\"");

    bool any_delivered = std::any_of(d.recipients.begin(), d.recipients.end(),
                                     [](const auto& r) { return r.outcome == policy::Outcome::Accept; });
    if (!any_delivered) return;
    fmt::print("\nDelivered copy:\n");
    if (d.header_edits.empty() && d.subject_tag.empty() && d.add_recipients.empty() && !d.remove_infected())
        fmt::print("  unchanged\n");
    if (d.remove_infected()) fmt::print("  infected parts removed, a note in each one's place\n");
    for (const auto& e : d.header_edits) fmt::print("  {}\n", edit_text(e));
    if (!d.subject_tag.empty()) fmt::print("  subject: {} {}\n", d.subject_tag, msg.subject);
    if (!d.add_recipients.empty()) fmt::print("  copy to: {}\n", fmt::join(d.add_recipients, ", "));
    if (d.copies_differ()) {
        fmt::print("  recipients differ (the milter delivers separate copies):\n");
        for (const auto& r : d.recipients) {
            if (r.outcome != policy::Outcome::Accept) continue;
            std::vector<std::string> parts;
            for (const auto& e : r.header_edits) parts.push_back(edit_text(e));
            if (!r.subject_tag.empty()) parts.push_back("subject tag " + r.subject_tag);
            fmt::print("    {}: {}\n", r.recipient, parts.empty() ? "unchanged" : fmt::format("{}", fmt::join(parts, "; ")));
        }
    }
    for (const auto& n : d.notifications)
        fmt::print("  notify {} (template {}{})\n", n.to_admin ? "admin (av.notify_admin)" : n.to, n.template_name,
                   n.recipient.empty() ? "" : ", about " + n.recipient);
}

void test(Context& ctx, const TestOptions& o) {
    auto lay = layout();
    auto snap = config::load(lay);
    if (!snap) throw CommandError(fmt::format("Configuration is invalid:\n{}", snap.error().message));
    auto site = policy::site_from_config(*snap);
    if (!site) throw CommandError(fmt::format("Configuration is invalid:\n{}", site.error().message));
    auto p = load_or_throw(o.policy_file);
    for (const auto& w : all_warnings(p, &*snap)) fmt::print(stderr, "{}\n", w);

    std::string raw = read_message(o.message);
    mail::ParsedMessage msg = mail::parse_message(raw);

    policy::Envelope env;
    if (o.from_given) {
        env.sender = o.from == "<>" ? "" : o.from;
    } else {
        auto from = header_addresses(msg, "From");
        if (from.empty()) throw CommandError("The message has no From address: give the envelope sender with --from (\"<>\" for bounces)", 2);
        env.sender = from.front();
    }
    env.recipients = o.to;
    if (env.recipients.empty()) {
        env.recipients = header_addresses(msg, "To");
        for (auto& a : header_addresses(msg, "Cc")) env.recipients.push_back(std::move(a));
        std::vector<std::string> unique;
        for (auto& a : env.recipients)
            if (std::none_of(unique.begin(), unique.end(), [&](const auto& u) { return policy::iequals(u, a); }))
                unique.push_back(std::move(a));
        env.recipients = std::move(unique);
    }
    if (env.recipients.empty()) throw CommandError("The message has no To or Cc address: give recipients with --to", 2);
    env.client_ip = o.ip;
    if (!o.ip.empty() && !policy::IpAddress::parse(o.ip)) throw CommandError(fmt::format("--ip: \"{}\" is not an IP address", o.ip), 2);
    env.client_hostname = o.hostname;
    env.helo = o.helo;
    env.auth_user = o.auth;
    env.queue_id = "TEST";

    policy::ScanFacts scan;
    if (!std::isnan(o.spam_score)) scan.spam_score = o.spam_score;
    scan.spam_rules = o.spam_rules;
    scan.virus = !o.viruses.empty();
    scan.virus_names = o.viruses;
    scan.unscannable = o.unscannable;

    auto db_lists = policy::open_lists_for_cli(*snap);
    policy::MemoryLists no_lists;
    const policy::ListLookup& lists = db_lists ? *db_lists : static_cast<const policy::ListLookup&>(no_lists);

    auto d = policy::evaluate(p, env, msg, scan, lists, *site);
    bool internal = site->internal_client(env.client_ip, env.auth_user);
    if (ctx.json) print_json(p, env, scan, d, internal, db_lists != nullptr);
    else print_text(p, o.message == "-" ? "(stdin)" : o.message, msg, env, scan, d, internal, db_lists != nullptr);
}

}  // namespace

void add_policy_commands(CLI::App& app, Context& ctx) {
    auto* policy = app.add_subcommand("policy", "Check the mail policy (policy.toml) and try it on a message");
    policy->require_subcommand(1);

    auto check_opts = std::make_shared<CheckOptions>();
    auto* check_cmd = policy->add_subcommand(
        "check", "Validate the policy in effect (/etc/pmx/policy.toml, else the vendor default) or FILE");
    check_cmd->add_option("FILE", check_opts->file, "A policy file to check instead");
    check_cmd->add_flag("--json", ctx.json, "Print JSON");
    check_cmd->callback([&ctx, check_opts] { check(ctx, *check_opts); });

    auto o = std::make_shared<TestOptions>();
    o->spam_score = std::numeric_limits<double>::quiet_NaN();
    auto* test_cmd = policy->add_subcommand(
        "test", "Run the policy on a message without an MTA: the rules that matched and why, the verdict per recipient");
    test_cmd->add_option("MESSAGE", o->message, "The message (RFC 5322, e.g. a .eml file); - reads stdin")->required();
    test_cmd->add_option("--from", o->from, "Envelope sender (MAIL FROM); default: the From address; <> for a bounce")
        ->each([o](const std::string&) { o->from_given = true; });
    test_cmd->add_option("--to", o->to, "Envelope recipient (RCPT TO), repeat for several; default: the To and Cc addresses")
        ->take_all()
        ->expected(1);
    test_cmd->add_option("--ip", o->ip, "Client IP address; default: none, as for a local submission (an internal sender)");
    test_cmd->add_option("--hostname", o->hostname, "Client's verified hostname");
    test_cmd->add_option("--helo", o->helo, "HELO/EHLO name");
    test_cmd->add_option("--auth", o->auth, "SASL login: the client authenticated as USER");
    test_cmd->add_option("--spam-score", o->spam_score, "Pretend the spam scanner gave this score");
    test_cmd->add_option("--spam-rule", o->spam_rules, "Pretend this spam rule hit (repeat for several)")->take_all()->expected(1);
    test_cmd->add_option("--virus", o->viruses, "Pretend the virus scanner found NAME (repeat for several)")->take_all()->expected(1);
    test_cmd->add_flag("--unscannable", o->unscannable, "Pretend the virus scanner could not scan the message");
    test_cmd->add_option("--policy", o->policy_file, "Policy file to run instead of the one in effect");
    test_cmd->add_flag("--json", ctx.json, "Print JSON");
    test_cmd->callback([&ctx, o] { test(ctx, *o); });
}

}  // namespace pmx::cli
