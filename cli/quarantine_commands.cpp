// pmx quarantine list|show|expire: search the quarantine index, show one message's metadata and
// headers, or the whole message; expire removes old ones. (release comes later.)
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "time_option.hpp"
#include "output.hpp"
#include "store/quarantine_store.hpp"
#include "store/store_config.hpp"
#include "store/time_filter.hpp"
#include "util/atomic_file.hpp"

namespace pmx::cli {

namespace {

std::string optional_score(const std::optional<double>& s) { return s ? fmt::format("{:.1f}", *s) : "-"; }

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
    return out;
}

std::string message_json(const store::QuarantinedMessage& m) {
    std::string rcpts;
    for (const auto& r : m.meta.recipients) rcpts += (rcpts.empty() ? "" : ",") + json_quote(r);
    return fmt::format(
        "{{\"id\":{},\"time_us\":{},\"time\":{},\"queue_id\":{},\"client_ip\":{},\"sender\":{},\"recipients\":[{}],"
        "\"subject\":{},\"reason\":{},\"score\":{},\"size\":{},\"node\":{},\"rule\":{},\"file\":{}}}",
        m.id, m.meta.time_us, json_quote(format_timestamp_usec(static_cast<unsigned long long>(m.meta.time_us))),
        json_quote(m.meta.queue_id), json_quote(m.meta.client_ip), json_quote(m.meta.sender), rcpts,
        json_quote(m.meta.subject), json_quote(m.meta.reason), m.meta.score ? fmt::format("{}", *m.meta.score) : "null",
        m.size, json_quote(m.meta.node), json_quote(m.meta.rule), json_quote(m.path.string()));
}

struct ListArgs {
    std::string sender, recipient, subject, reason, since, until;
    int limit = 50;
    int offset = 0;
};

void list(Context& ctx, const ListArgs& a) {
    store::QuarantineFilter f;
    f.sender = a.sender;
    f.recipient = a.recipient;
    f.subject = a.subject;
    f.reason = a.reason;
    f.since_us = time_arg(a.since, "--since");
    f.until_us = time_arg(a.until, "--until");
    f.limit = a.limit;
    f.offset = a.offset;
    store::StorePaths paths;
    auto db = store::open_configured_database(&paths);
    if (!db) throw CommandError(db.error().message);
    auto found = store::search_quarantine(*db, paths.quarantine_dir, f);
    if (!found) throw CommandError(found.error().message);

    if (ctx.json) {
        std::string out = "[";
        for (const auto& m : *found) out += (out.size() > 1 ? ",\n " : "") + message_json(m);
        fmt::print("{}]\n", out);
        return;
    }
    if (found->empty()) {
        if (!ctx.quiet) fmt::print("No quarantined messages match.\n");
        return;
    }
    Table t({"ID", "TIME", "SENDER", "RECIPIENTS", "REASON", "SCORE", "SIZE", "SUBJECT"});
    for (const auto& m : *found)
        t.add({std::to_string(m.id), format_timestamp_usec(static_cast<unsigned long long>(m.meta.time_us)),
               m.meta.sender.empty() ? "<>" : printable(m.meta.sender), printable(joined(m.meta.recipients, ",")),
               printable(m.meta.reason), optional_score(m.meta.score), format_bytes(m.size), printable(m.meta.subject)});
    fmt::print("{}", t.render());
    if (!ctx.quiet && static_cast<int>(found->size()) == f.limit)
        fmt::print("(the first {}; more with --offset {})\n", f.limit, f.offset + f.limit);
}

struct ShowArgs {
    std::string id;
    bool raw = false;
};

void show(Context& ctx, const ShowArgs& a) {
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(a.id.data(), a.id.data() + a.id.size(), id);
    if (ec != std::errc() || p != a.id.data() + a.id.size() || id <= 0)
        throw CommandError(fmt::format("Invalid message id \"{}\": a number from pmx quarantine list", a.id), 2);
    store::StorePaths paths;
    auto db = store::open_configured_database(&paths);
    if (!db) throw CommandError(db.error().message);
    auto found = store::find_quarantined(*db, paths.quarantine_dir, id);
    if (!found) throw CommandError(found.error().message);
    if (!found->has_value()) throw CommandError(fmt::format("No quarantined message with id {}", id));
    const auto& m = **found;

    if (a.raw) {
        auto text = read_file(m.path);
        if (!text) throw CommandError(text.error().message);
        std::fwrite(text->data(), 1, text->size(), stdout);
        return;
    }
    if (ctx.json) {
        fmt::print("{}\n", message_json(m));
        return;
    }
    fmt::print("Id:         {}\n", m.id);
    fmt::print("Time:       {}\n", format_timestamp_usec(static_cast<unsigned long long>(m.meta.time_us)));
    fmt::print("Sender:     {}\n", m.meta.sender.empty() ? "<>" : printable(m.meta.sender));
    fmt::print("Recipients: {}\n", printable(joined(m.meta.recipients, ", ")));
    fmt::print("Subject:    {}\n", printable(m.meta.subject));
    fmt::print("Reason:     {}\n", printable(m.meta.reason));
    fmt::print("Rule:       {}\n", m.meta.rule.empty() ? "-" : printable(m.meta.rule));
    fmt::print("Score:      {}\n", optional_score(m.meta.score));
    fmt::print("Size:       {} ({} bytes)\n", format_bytes(m.size), m.size);
    fmt::print("Client:     {}\n", m.meta.client_ip.empty() ? "-" : m.meta.client_ip);
    fmt::print("Queue id:   {}\n", m.meta.queue_id.empty() ? "-" : printable(m.meta.queue_id));
    fmt::print("Node:       {}\n", m.meta.node.empty() ? "-" : printable(m.meta.node));
    fmt::print("File:       {}\n", m.path.string());
    auto headers = store::read_message_headers(m.path);
    if (!headers) throw CommandError(headers.error().message);
    fmt::print("\n");
    std::string_view h = *headers;
    while (!h.empty()) {
        auto nl = h.find('\n');
        auto line = h.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        fmt::print("{}\n", printable(line));
        if (nl == std::string_view::npos) break;
        h.remove_prefix(nl + 1);
    }
}

struct ExpireArgs {
    std::string older_than;
    bool dry_run = false;
};

// Removes every message older than the given age: index rows first, then the file (as delete does).
void expire(Context& ctx, const ExpireArgs& a) {
    const auto unit_at = a.older_than.find_first_not_of("0123456789");
    if (unit_at == 0 || unit_at == std::string::npos || unit_at + 1 != a.older_than.size() ||
        std::string_view("smhdw").find(a.older_than.back()) == std::string_view::npos)
        throw CommandError(fmt::format("--older-than: \"{}\" is not an age such as 30d, 12h, 2w", a.older_than), 2);
    auto cutoff = time_arg("-" + a.older_than, "--older-than");
    store::StorePaths paths;
    auto db = store::open_configured_database(&paths);
    if (!db) throw CommandError(db.error().message);
    store::QuarantineFilter f;
    f.until_us = cutoff;
    f.limit = 500;
    std::uint64_t removed = 0, bytes = 0;
    for (;;) {
        auto batch = store::search_quarantine(*db, paths.quarantine_dir, f);
        if (!batch) throw CommandError(batch.error().message);
        if (batch->empty()) break;
        for (const auto& m : *batch) {
            if (!a.dry_run) {
                auto r = store::delete_quarantined(*db, paths.quarantine_dir, m.id);
                if (!r) throw CommandError(r.error().message);
            }
            ++removed;
            bytes += m.size;
        }
        if (a.dry_run) f.offset += f.limit;  // nothing was removed: page on
    }
    if (ctx.json) {
        fmt::print("{{\"removed\": {}, \"bytes\": {}, \"dry_run\": {}, \"before_us\": {}}}\n", removed, bytes,
                   a.dry_run ? "true" : "false", *cutoff);
        return;
    }
    if (!ctx.quiet)
        fmt::print("{} {} quarantined message{} ({}) older than {}\n", a.dry_run ? "Would remove" : "Removed", removed,
                   removed == 1 ? "" : "s", format_bytes(bytes), a.older_than);
}

}  // namespace

void add_quarantine_commands(CLI::App& app, Context& ctx) {
    auto* q = app.add_subcommand("quarantine", "Search and inspect quarantined messages");
    q->require_subcommand(1);
    q->footer("Times: 2026-11-25, \"2026-11-25 10:00\" (UTC, as printed), -2h, -3d, -1w, today, yesterday.");

    static ListArgs list_args;
    auto* list_cmd = q->add_subcommand("list", "List quarantined messages, newest first");
    list_cmd->add_option("--sender", list_args.sender, "Sender contains this (case-insensitive)");
    list_cmd->add_option("--recipient", list_args.recipient, "A recipient contains this (case-insensitive)");
    list_cmd->add_option("--subject", list_args.subject, "Subject contains this (case-insensitive)");
    list_cmd->add_option("--reason", list_args.reason, "Quarantined for this reason (spam, virus, ...)");
    list_cmd->add_option("--since", list_args.since, "At or after this time");
    list_cmd->add_option("--until", list_args.until, "Before this time");
    list_cmd->add_option("--limit", list_args.limit, "At most this many (default 50)")->check(CLI::Range(1, 100000));
    list_cmd->add_option("--offset", list_args.offset, "Skip this many first (paging)")->check(CLI::NonNegativeNumber);
    list_cmd->add_flag("--json", ctx.json, "Print JSON");
    list_cmd->callback([&ctx] { list(ctx, list_args); });

    static ShowArgs show_args;
    auto* show_cmd = q->add_subcommand("show", "Print a quarantined message's metadata and headers");
    show_cmd->add_option("ID", show_args.id, "Message id (from pmx quarantine list)")->required();
    show_cmd->add_flag("--raw", show_args.raw, "Print the whole message as stored, nothing else");
    show_cmd->add_flag("--json", ctx.json, "Print the metadata as JSON");
    show_cmd->callback([&ctx] { show(ctx, show_args); });

    static ExpireArgs expire_args;
    auto* expire_cmd = q->add_subcommand("expire", "Remove quarantined messages older than an age (index and files)");
    expire_cmd->add_option("--older-than", expire_args.older_than, "Age: 30d, 12h, 2w, 90m")->required();
    expire_cmd->add_flag("--dry-run", expire_args.dry_run, "Only count what would be removed");
    expire_cmd->add_flag("--json", ctx.json, "Print JSON");
    expire_cmd->callback([&ctx] { expire(ctx, expire_args); });
}

}  // namespace pmx::cli
