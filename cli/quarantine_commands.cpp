// pmx quarantine list|show|release|forward|delete|export|expire|audit: search the quarantine
// index, look at a message, let it go (through pmx-queued), send a copy elsewhere, remove it,
// export to mbox, expire old ones, and read the audit log every action writes to.
// The digest subcommands register themselves (quarantine_digest_commands.cpp).
#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "commands.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "quarantine/forward.hpp"
#include "quarantine/mbox.hpp"
#include "quarantine/release.hpp"
#include "quarantine/remove.hpp"
#include "queue/submit.hpp"
#include "store/audit.hpp"
#include "store/quarantine_store.hpp"
#include "store/store_config.hpp"
#include "store/time_filter.hpp"
#include "time_option.hpp"
#include "util/atomic_file.hpp"
#include "web/rpc_quarantine.hpp"

namespace pmx::cli {

namespace {

// ---- shared ----

// Who is asking, for the audit log: the user behind sudo, else the calling user's name.
std::string calling_user() {
    uid_t uid = ::getuid();
    if (uid == 0)
        if (const char* sudo = std::getenv("SUDO_USER"); sudo && *sudo) return sudo;
    struct passwd pw {};
    struct passwd* found = nullptr;
    char buf[4096];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return found->pw_name;
    return fmt::format("uid {}", uid);
}

// The database and the places of this configuration.
struct Store {
    store::Database db;
    quarantine::Places places;
};

Store open_store() {
    auto snapshot = config::load(config::Layout::from_environment());
    if (!snapshot) throw CommandError(fmt::format("Configuration is invalid:\n{}", snapshot.error().message));
    auto paths = store::store_paths(*snapshot);
    auto db = store::Database::open(paths.database);
    if (!db) throw CommandError(db.error().message);
    return Store{std::move(*db), {paths.quarantine_dir, queue::spool_directory(*snapshot)}};
}

std::int64_t parse_id(const std::string& text) {
    std::int64_t id = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || p != text.data() + text.size() || id <= 0)
        throw CommandError(fmt::format("Invalid message id \"{}\": a number from pmx quarantine list", text), 2);
    return id;
}

std::vector<std::int64_t> parse_ids(const std::vector<std::string>& texts) {
    std::vector<std::int64_t> ids;
    for (const auto& t : texts) ids.push_back(parse_id(t));
    return ids;
}

std::string optional_score(const std::optional<double>& s) { return s ? fmt::format("{:.1f}", *s) : "-"; }

std::string joined(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
    return out;
}

std::string json_strings(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + json_quote(i);
    return "[" + out + "]";
}

std::string timestamp(std::int64_t us) { return format_timestamp_usec(static_cast<unsigned long long>(us)); }

// "held", "released", "partly released"
std::string state_word(const store::QuarantinedMessage& m) {
    std::size_t released = 0;
    for (const auto& s : m.states) released += s.released_us ? 1 : 0;
    return released == 0 ? "held" : released == m.states.size() ? "released" : "partly released";
}

// The object the web's quarantine methods return too (one shape for both).
std::string message_json(const store::QuarantinedMessage& m) { return web::json_text(web::quarantined_message_json(m)); }

// One line per id for people, one JSON array for scripts; a failed id is reported and the
// others still done (exit status 1 at the end).
struct PerId {
    Context& ctx;
    std::vector<std::string> json{};
    void failed(std::int64_t id, const std::string& message) {
        fmt::print(stderr, "pmx: {}\n", message);
        ctx.exit_code = 1;
        if (ctx.json) json.push_back(fmt::format("{{\"id\":{},\"error\":{}}}", id, json_quote(message)));
    }
    void done() const {
        if (ctx.json) fmt::print("[{}]\n", joined(json, ",\n "));
    }
};

// ---- list, show ----

struct FilterArgs {
    std::string sender, recipient, subject, reason, text, since, until;
    std::optional<double> min_score, max_score;
    bool held = false, released = false;
};

void add_filter_options(CLI::App* cmd, FilterArgs& a) {
    cmd->add_option("--sender", a.sender, "Sender contains this (case-insensitive)");
    cmd->add_option("--recipient", a.recipient, "A recipient contains this (case-insensitive)");
    cmd->add_option("--subject", a.subject, "Subject contains this (case-insensitive)");
    cmd->add_option("--reason", a.reason, "Quarantined for this reason (spam, virus, ...)");
    cmd->add_option("--text", a.text, "Full-text search in subject and sender: words, \"a phrase\", prefix*");
    cmd->add_option("--min-score", a.min_score, "Spam score at least this");
    cmd->add_option("--max-score", a.max_score, "Spam score at most this");
    auto* held = cmd->add_flag("--held", a.held, "Only messages still held for some recipient");
    cmd->add_flag("--released", a.released, "Only messages released for every recipient")->excludes(held);
    cmd->add_option("--since", a.since, "At or after this time");
    cmd->add_option("--until", a.until, "Before this time");
}

bool any_filter(const FilterArgs& a) {
    return !a.sender.empty() || !a.recipient.empty() || !a.subject.empty() || !a.reason.empty() || !a.text.empty() ||
           a.min_score || a.max_score || a.held || a.released || !a.since.empty() || !a.until.empty();
}

store::QuarantineFilter make_filter(const FilterArgs& a) {
    store::QuarantineFilter f;
    f.sender = a.sender;
    f.recipient = a.recipient;
    f.subject = a.subject;
    f.reason = a.reason;
    f.min_score = a.min_score;
    f.max_score = a.max_score;
    if (a.min_score && a.max_score && *a.min_score > *a.max_score)
        throw CommandError(fmt::format("--min-score {} is above --max-score {}", *a.min_score, *a.max_score), 2);
    if (!a.text.empty()) {
        if (auto q = store::fts_query(a.text); !q) throw CommandError(fmt::format("--text: {}", q.error().message), 2);
        f.text = a.text;
    }
    f.state = a.held ? store::HeldState::Held : a.released ? store::HeldState::Released : store::HeldState::Any;
    f.since_us = time_arg(a.since, "--since");
    f.until_us = time_arg(a.until, "--until");
    return f;
}

struct ListArgs {
    FilterArgs filter;
    int limit = 50;
    int offset = 0;
};

void list(Context& ctx, const ListArgs& a) {
    auto f = make_filter(a.filter);
    f.limit = a.limit;
    f.offset = a.offset;
    auto s = open_store();
    auto found = store::search_quarantine(s.db, s.places.quarantine_dir, f);
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
    Table t({"ID", "TIME", "SENDER", "RECIPIENTS", "REASON", "SCORE", "SIZE", "STATE", "SUBJECT"});
    for (const auto& m : *found)
        t.add({std::to_string(m.id), timestamp(m.meta.time_us), m.meta.sender.empty() ? "<>" : printable(m.meta.sender),
               printable(joined(m.meta.recipients, ",")), printable(m.meta.reason), optional_score(m.meta.score),
               format_bytes(m.size), state_word(m), printable(m.meta.subject)});
    fmt::print("{}", t.render());
    if (!ctx.quiet && static_cast<int>(found->size()) == f.limit)
        fmt::print("(the first {}; more with --offset {})\n", f.limit, f.offset + f.limit);
}

struct ShowArgs {
    std::string id;
    bool raw = false;
};

void show(Context& ctx, const ShowArgs& a) {
    std::int64_t id = parse_id(a.id);
    auto s = open_store();
    auto found = store::find_quarantined(s.db, s.places.quarantine_dir, id);
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
    fmt::print("Time:       {}\n", timestamp(m.meta.time_us));
    fmt::print("Sender:     {}\n", m.meta.sender.empty() ? "<>" : printable(m.meta.sender));
    fmt::print("Recipients: ");
    for (std::size_t i = 0; i < m.states.size(); ++i) {
        const auto& st = m.states[i];
        std::string state = !st.released_us ? "held"
                            : fmt::format("released {} by {}{}", timestamp(*st.released_us), printable(st.released_by),
                                          st.released_to.empty() ? "" : " to " + printable(st.released_to));
        fmt::print("{}{} ({})\n", i ? "            " : "", printable(st.recipient), state);
    }
    if (m.states.empty()) fmt::print("-\n");
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

// ---- release, forward, delete ----

struct ReleaseArgs {
    std::vector<std::string> ids, recipients;
    std::string to;
    bool allow_sender = false;
};

void release(Context& ctx, const ReleaseArgs& a) {
    auto ids = parse_ids(a.ids);
    auto s = open_store();
    PerId out{ctx};
    for (auto id : ids) {
        quarantine::ReleaseRequest rq{id, a.recipients, std::nullopt, a.allow_sender, calling_user()};
        if (!a.to.empty()) rq.to = a.to;
        auto r = quarantine::release(s.db, s.places, rq);
        if (!r) {
            out.failed(id, r.error().message);
            continue;
        }
        if (ctx.json) {
            out.json.push_back(fmt::format("{{\"id\":{},\"released\":{},\"already_released\":{},\"queue_entry\":{}}}", id,
                                           json_strings(r->released), json_strings(r->already_released),
                                           json_quote(r->queue_entry)));
        } else if (!ctx.quiet) {
            if (!r->released.empty())
                fmt::print("Released {} to {} (queue entry {}){}\n", id, printable(joined(r->released, ", ")),
                           r->queue_entry, a.allow_sender ? "; sender allow-listed" : "");
            if (!r->already_released.empty())
                fmt::print("{} was already released for {}: not sent again\n", id,
                           printable(joined(r->already_released, ", ")));
        }
    }
    out.done();
}

struct ForwardArgs {
    std::vector<std::string> ids;
    std::string to;
};

void forward(Context& ctx, const ForwardArgs& a) {
    auto ids = parse_ids(a.ids);
    auto s = open_store();
    PerId out{ctx};
    for (auto id : ids) {
        auto entry = quarantine::forward(s.db, s.places, {id, a.to, calling_user()});
        if (!entry) {
            out.failed(id, entry.error().message);
            continue;
        }
        if (ctx.json)
            out.json.push_back(fmt::format("{{\"id\":{},\"to\":{},\"queue_entry\":{}}}", id, json_quote(a.to),
                                           json_quote(*entry)));
        else if (!ctx.quiet)
            fmt::print("Forwarded a copy of {} to {} (queue entry {})\n", id, printable(a.to), *entry);
    }
    out.done();
}

void remove(Context& ctx, const std::vector<std::string>& texts) {
    auto ids = parse_ids(texts);
    auto s = open_store();
    PerId out{ctx};
    for (auto id : ids) {
        auto r = quarantine::remove(s.db, s.places.quarantine_dir, id, calling_user());
        if (!r) {
            out.failed(id, r.error().message);
            continue;
        }
        if (!*r) {
            out.failed(id, fmt::format("No quarantined message with id {}", id));
            continue;
        }
        if (ctx.json) out.json.push_back(fmt::format("{{\"id\":{},\"deleted\":true}}", id));
        else if (!ctx.quiet) fmt::print("Deleted {}\n", id);
    }
    out.done();
}

// ---- export ----

struct ExportArgs {
    std::vector<std::string> ids;
    FilterArgs filter;
    bool all = false;
    std::string output;
};

void export_mbox(Context& ctx, const ExportArgs& a) {
    bool filtered = any_filter(a.filter) || a.all;
    if (a.ids.empty() && !filtered)
        throw CommandError("Name the messages to export: ids, search filters, or --all for every message", 2);
    if (!a.ids.empty() && filtered) throw CommandError("Name the messages to export by ids or by search filters, not both", 2);
    auto ids = parse_ids(a.ids);
    auto s = open_store();
    std::vector<store::QuarantinedMessage> messages;
    for (auto id : ids) {
        auto m = store::find_quarantined(s.db, s.places.quarantine_dir, id);
        if (!m) throw CommandError(m.error().message);
        if (!m->has_value()) throw CommandError(fmt::format("No quarantined message with id {}", id));
        messages.push_back(std::move(**m));
    }
    if (filtered) {
        auto f = make_filter(a.filter);
        f.limit = 1000;
        for (;;) {
            auto page = store::search_quarantine(s.db, s.places.quarantine_dir, f);
            if (!page) throw CommandError(page.error().message);
            for (auto& m : *page) messages.push_back(std::move(m));
            if (static_cast<int>(page->size()) < f.limit) break;
            f.offset += f.limit;
        }
    }
    auto r = quarantine::export_mbox(s.db, messages, a.output, calling_user());
    if (!r) throw CommandError(r.error().message);
    if (a.output == "-") return;  // the mbox is the output
    if (ctx.json)
        fmt::print("{{\"messages\":{},\"bytes\":{},\"output\":{}}}\n", r->messages, r->bytes, json_quote(a.output));
    else if (!ctx.quiet)
        fmt::print("Exported {} message{} ({}) to {}\n", r->messages, r->messages == 1 ? "" : "s",
                   format_bytes(r->bytes), a.output);
}

// ---- expire ----

struct ExpireArgs {
    std::string older_than;
    bool dry_run = false;
};

// Removes every message older than the given age (index rows, audit entry, then the file) and
// stray files no row names.
void expire(Context& ctx, const ExpireArgs& a) {
    const auto unit_at = a.older_than.find_first_not_of("0123456789");
    if (unit_at == 0 || unit_at == std::string::npos || unit_at + 1 != a.older_than.size() ||
        std::string_view("smhdw").find(a.older_than.back()) == std::string_view::npos)
        throw CommandError(fmt::format("--older-than: \"{}\" is not an age such as 30d, 12h, 2w", a.older_than), 2);
    auto cutoff = time_arg("-" + a.older_than, "--older-than");
    auto s = open_store();
    auto r = quarantine::expire(s.db, s.places.quarantine_dir,
                                {.before_us = *cutoff, .dry_run = a.dry_run, .actor = calling_user(), .age = a.older_than});
    if (!r) throw CommandError(r.error().message);
    const auto& st = r->strays;
    if (ctx.json) {
        fmt::print("{{\"removed\": {}, \"bytes\": {}, \"stray_files\": {}, \"temporary_files\": {}, \"stray_bytes\": {}, "
                   "\"directories\": {}, \"dry_run\": {}, \"before_us\": {}}}\n",
                   r->messages, r->bytes, st.files, st.temporary, st.bytes, st.directories, a.dry_run ? "true" : "false",
                   *cutoff);
        return;
    }
    if (ctx.quiet) return;
    fmt::print("{} {} quarantined message{} ({}) older than {}\n", a.dry_run ? "Would remove" : "Removed", r->messages,
               r->messages == 1 ? "" : "s", format_bytes(r->bytes), a.older_than);
    if (st.files || st.temporary)
        fmt::print("{} {} stray file{} no index entry names and {} unfinished temporary file{} ({})\n",
                   a.dry_run ? "Would remove" : "Removed", st.files, st.files == 1 ? "" : "s", st.temporary,
                   st.temporary == 1 ? "" : "s", format_bytes(st.bytes));
}

// ---- audit ----

struct AuditArgs {
    std::optional<std::int64_t> id;
    std::string action, actor, since, until;
    int limit = 100;
    int offset = 0;
};

void audit(Context& ctx, const AuditArgs& a) {
    store::AuditFilter f;
    f.message_id = a.id;
    f.action = a.action;
    f.actor = a.actor;
    f.since_us = time_arg(a.since, "--since");
    f.until_us = time_arg(a.until, "--until");
    f.limit = a.limit;
    f.offset = a.offset;
    auto s = open_store();
    auto rows = store::list_audit(s.db, f);
    if (!rows) throw CommandError(rows.error().message);
    if (ctx.json) {
        std::vector<std::string> items;
        for (const auto& e : *rows)
            items.push_back(fmt::format(
                "{{\"id\":{},\"time_us\":{},\"time\":{},\"actor\":{},\"action\":{},\"message_id\":{},\"detail\":{}}}",
                e.id, e.time_us, json_quote(timestamp(e.time_us)), json_quote(e.actor), json_quote(e.action),
                e.message_id ? std::to_string(*e.message_id) : "null", json_quote(e.detail)));
        fmt::print("[{}]\n", joined(items, ",\n "));
        return;
    }
    if (rows->empty()) {
        if (!ctx.quiet) fmt::print("No quarantine actions recorded match.\n");
        return;
    }
    Table t({"TIME", "WHO", "ACTION", "ID", "DETAIL"});
    for (const auto& e : *rows)
        t.add({timestamp(e.time_us), printable(e.actor), e.action, e.message_id ? std::to_string(*e.message_id) : "-",
               printable(e.detail)});
    fmt::print("{}", t.render());
    if (!ctx.quiet && static_cast<int>(rows->size()) == f.limit)
        fmt::print("(the first {}; more with --offset {})\n", f.limit, f.offset + f.limit);
}

}  // namespace

void add_quarantine_commands(CLI::App& app, Context& ctx) {
    auto* q = app.add_subcommand("quarantine", "Search, release, forward, delete, export and expire quarantined messages");
    q->require_subcommand(1);
    q->footer("Times: 2026-11-25, \"2026-11-25 10:00\" (UTC, as printed), -2h, -3d, -1w, today, yesterday.\n"
              "Every action is recorded with the calling user: pmx quarantine audit.");

    static ListArgs list_args;
    auto* list_cmd = q->add_subcommand("list", "List quarantined messages, newest first");
    add_filter_options(list_cmd, list_args.filter);
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

    static ReleaseArgs release_args;
    auto* release_cmd = q->add_subcommand("release", "Deliver quarantined messages to their recipients (through pmx-queued)");
    release_cmd->add_option("ID", release_args.ids, "Message ids")->required();
    release_cmd->add_option("--recipient", release_args.recipients,
                            "Only for this recipient (repeatable; default: every one still held)");
    release_cmd->add_option("--to", release_args.to, "Deliver to this address instead (the recipients count as released)");
    release_cmd->add_flag("--allow-sender", release_args.allow_sender,
                          "Also add the sender to each released recipient's own allow list");
    release_cmd->add_flag("--json", ctx.json, "Print JSON");
    release_cmd->callback([&ctx] { release(ctx, release_args); });

    static ForwardArgs forward_args;
    auto* forward_cmd = q->add_subcommand("forward", "Send a copy to another address; the message stays held");
    forward_cmd->add_option("ID", forward_args.ids, "Message ids")->required();
    forward_cmd->add_option("--to", forward_args.to, "The address to send the copy to")->required();
    forward_cmd->add_flag("--json", ctx.json, "Print JSON");
    forward_cmd->callback([&ctx] { forward(ctx, forward_args); });

    static std::vector<std::string> delete_ids;
    auto* delete_cmd = q->add_subcommand("delete", "Remove quarantined messages for good (index and file)");
    delete_cmd->add_option("ID", delete_ids, "Message ids")->required();
    delete_cmd->add_flag("--json", ctx.json, "Print JSON");
    delete_cmd->callback([&ctx] { remove(ctx, delete_ids); });

    static ExportArgs export_args;
    auto* export_cmd = q->add_subcommand("export", "Write quarantined messages to an mbox file (mboxrd)");
    export_cmd->add_option("ID", export_args.ids, "Message ids (or use search filters)");
    add_filter_options(export_cmd, export_args.filter);
    export_cmd->add_flag("--all", export_args.all, "Every quarantined message");
    export_cmd->add_option("--output,-o", export_args.output, "The mbox file to write (\"-\": standard output)")->required();
    export_cmd->add_flag("--json", ctx.json, "Print JSON");
    export_cmd->callback([&ctx] { export_mbox(ctx, export_args); });

    static ExpireArgs expire_args;
    auto* expire_cmd = q->add_subcommand("expire", "Remove quarantined messages older than an age (index and files)");
    expire_cmd->add_option("--older-than", expire_args.older_than, "Age: 30d, 12h, 2w, 90m")->required();
    expire_cmd->add_flag("--dry-run", expire_args.dry_run, "Only count what would be removed");
    expire_cmd->add_flag("--json", ctx.json, "Print JSON");
    expire_cmd->callback([&ctx] { expire(ctx, expire_args); });

    static AuditArgs audit_args;
    auto* audit_cmd = q->add_subcommand("audit", "Show the recorded quarantine actions, newest first");
    audit_cmd->add_option("--id", audit_args.id, "Only actions on this message id")->check(CLI::PositiveNumber);
    audit_cmd->add_option("--action", audit_args.action, "Only this action (release, forward, delete, export, expire, sweep)");
    audit_cmd->add_option("--actor", audit_args.actor, "Only actions by this user");
    audit_cmd->add_option("--since", audit_args.since, "At or after this time");
    audit_cmd->add_option("--until", audit_args.until, "Before this time");
    audit_cmd->add_option("--limit", audit_args.limit, "At most this many (default 100)")->check(CLI::Range(1, 100000));
    audit_cmd->add_option("--offset", audit_args.offset, "Skip this many first (paging)")->check(CLI::NonNegativeNumber);
    audit_cmd->add_flag("--json", ctx.json, "Print JSON");
    audit_cmd->callback([&ctx] { audit(ctx, audit_args); });

    add_quarantine_digest_commands(*q, ctx);
}

}  // namespace pmx::cli
