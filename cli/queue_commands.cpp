// pmx queue list|show|flush|retry|delete (and the hidden submit): the Queue Runner's spool.
// list, show, retry and delete work on the spool files themselves (with the same per-entry lock
// pmx-queued takes, so they never change an entry under a delivery); flush asks pmx-queued
// over D-Bus (org.pmx.QueueRunner1.Flush) to try every deferred entry now.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "commands.hpp"
#include "config/loader.hpp"
#include "message_input.hpp"
#include "output.hpp"
#include "queue/spool.hpp"
#include "queue/submit.hpp"
#include "services/registry.hpp"

namespace pmx::cli {

namespace {

using queue::RcptStatus;
using queue::State;

queue::Spool open_spool() {
    auto loaded = config::load(config::Layout::from_environment());
    if (!loaded) throw CommandError(fmt::format("Configuration is invalid:\n{}", loaded.error().message));
    return queue::Spool(queue::spool_directory(*loaded));
}

void check_id(const std::string& id) {
    if (!queue::valid_entry_id(id))
        throw CommandError(fmt::format("\"{}\" is not a queue entry id (20 hex digits and a dash, as pmx queue list shows)",
                                       printable(id)), 2);
}

std::string rcpt_json(const queue::RecipientState& r) {
    return fmt::format("{{\"address\":{},\"status\":{},\"code\":{},\"reply\":{},\"done_us\":{}}}", json_quote(r.address),
                       json_quote(queue::to_string(r.status)), r.code, json_quote(r.reply), r.done_us);
}

std::string entry_json(const queue::ListedEntry& le) {
    const auto& e = le.entry;
    std::string rcpts = "[";
    for (const auto& r : e.recipients) rcpts += (rcpts.size() > 1 ? "," : "") + rcpt_json(r);
    rcpts += "]";
    return fmt::format("{{\"id\":{},\"state\":{},\"kind\":{},\"reference\":{},\"sender\":{},\"recipients\":{},"
                       "\"submitted_us\":{},\"requeued_us\":{},\"attempts\":{},\"last_attempt_us\":{},"
                       "\"next_attempt_us\":{},\"last_error\":{},\"message_bytes\":{},\"problem\":{}}}",
                       json_quote(e.id), json_quote(queue::to_string(le.state)), json_quote(e.kind),
                       json_quote(e.reference), json_quote(e.sender), rcpts, e.submitted_us, e.requeued_us, e.attempts,
                       e.last_attempt_us, e.next_attempt_us, json_quote(e.last_error), e.message_bytes,
                       le.problem.empty() ? "null" : json_quote(le.problem));
}

std::string format_span(std::int64_t s) {
    return s < 120 ? fmt::format("{}s", s) : s < 7200 ? fmt::format("{}min", s / 60)
         : s < 2 * 86400 ? fmt::format("{}h", s / 3600) : fmt::format("{}d", s / 86400);
}

std::string format_relative(std::int64_t when_us, std::int64_t now_us) {
    if (when_us <= now_us) return format_span((now_us - when_us) / 1'000'000) + " ago";
    return "in " + format_span((when_us - now_us) / 1'000'000);
}

std::string next_column(const queue::ListedEntry& le, std::int64_t now) {
    switch (le.state) {
        case State::Incoming: return "now";
        case State::Active: return "delivering";
        case State::Deferred: return le.entry.next_attempt_us <= now ? "now" : format_relative(le.entry.next_attempt_us, now);
        case State::Failed: return "never";
        case State::Sent: return "-";
    }
    return "-";
}

std::string shorten(std::string s, std::size_t max) {
    if (s.size() > max) s = s.substr(0, max - 3) + "...";
    return s;
}

void list(Context& ctx, const std::string& state_text, bool all) {
    std::optional<State> only;
    if (!state_text.empty()) {
        only = queue::parse_state(state_text);
        if (!only)
            throw CommandError(fmt::format("--state {}: expected incoming, active, deferred, failed or sent", state_text), 2);
    }
    auto spool = open_spool();
    auto entries = spool.list(only);
    if (!entries) throw CommandError(entries.error().message);
    std::vector<queue::ListedEntry> shown;
    for (auto& le : *entries)
        if (only || all || le.state != State::Sent) shown.push_back(std::move(le));
    if (ctx.json) {
        std::string out = "[";
        for (const auto& le : shown) out += (out.size() > 1 ? ",\n " : "") + entry_json(le);
        fmt::print("{}]\n", out);
        return;
    }
    if (shown.empty()) {
        if (!ctx.quiet) fmt::print("The queue is empty ({}).\n", spool.root().string());
        return;
    }
    std::int64_t now = queue::now_realtime_us();
    Table t({"ID", "STATE", "KIND", "AGE", "TRIES", "NEXT", "RCPT", "SENDER", "LAST ERROR"});
    for (const auto& le : shown) {
        const auto& e = le.entry;
        if (!le.problem.empty()) {
            t.add({e.id, std::string(queue::to_string(le.state)), "?", "-", "-", "-", "-", "-",
                   shorten(printable(le.problem), 60)});
            continue;
        }
        std::string rcpt = e.recipients.size() == 1
                               ? printable(e.recipients[0].address)
                               : fmt::format("{} ({} done)", e.recipients.size(),
                                             e.count(RcptStatus::Delivered) + e.count(RcptStatus::Failed));
        t.add({e.id, std::string(queue::to_string(le.state)), printable(e.kind),
               format_span(std::max<std::int64_t>(now - e.submitted_us, 0) / 1'000'000),
               std::to_string(e.attempts), next_column(le, now), shorten(rcpt, 40),
               e.sender.empty() ? "<>" : shorten(printable(e.sender), 40), shorten(printable(e.last_error), 60)});
    }
    fmt::print("{}", t.render());
    if (!ctx.quiet) fmt::print("\n{} entries in {}.\n", shown.size(), spool.root().string());
}

void show(Context& ctx, const std::string& id, bool with_message) {
    check_id(id);
    auto spool = open_spool();
    auto state = spool.locate(id);
    if (!state) throw CommandError(fmt::format("No queue entry {}", id));
    auto f = spool.open(*state, id);
    if (!f) throw CommandError(f.error().message);
    queue::ListedEntry le{.state = *state, .entry = f->entry(), .mtime_us = 0, .problem = {}};
    std::optional<std::string> message;
    if (with_message) {
        auto m = f->read_message();
        if (!m) throw CommandError(m.error().message);
        message = std::move(*m);
    }
    if (ctx.json) {
        std::string j = entry_json(le);
        if (message) j = j.substr(0, j.size() - 1) + ",\"message\":" + json_quote(*message) + "}";
        fmt::print("{}\n", j);
        return;
    }
    const auto& e = le.entry;
    std::int64_t now = queue::now_realtime_us();
    fmt::print("Entry:        {}\n", e.id);
    fmt::print("State:        {}\n", queue::to_string(*state));
    fmt::print("Kind:         {}{}\n", printable(e.kind), e.reference.empty() ? "" : " (" + printable(e.reference) + ")");
    fmt::print("Sender:       {}\n", e.sender.empty() ? "<>" : printable(e.sender));
    fmt::print("Submitted:    {} ({})\n", format_timestamp_usec(e.submitted_us), format_relative(e.submitted_us, now));
    if (e.requeued_us) fmt::print("Retried:      {}\n", format_timestamp_usec(e.requeued_us));
    fmt::print("Size:         {}\n", format_bytes(e.message_bytes));
    fmt::print("Attempts:     {}\n", e.attempts);
    if (e.last_attempt_us)
        fmt::print("Last attempt: {} ({})\n", format_timestamp_usec(e.last_attempt_us), format_relative(e.last_attempt_us, now));
    if (*state == State::Deferred)
        fmt::print("Next attempt: {} ({})\n", format_timestamp_usec(e.next_attempt_us), next_column(le, now));
    if (!e.last_error.empty()) fmt::print("Last error:   {}\n", printable(e.last_error));
    fmt::print("Recipients:\n");
    for (const auto& r : e.recipients) {
        fmt::print("  {:<9} {}", queue::to_string(r.status), printable(r.address));
        if (!r.reply.empty()) fmt::print(": {}", printable(r.reply));
        fmt::print("\n");
    }
    if (message) fmt::print("\n{}", *message);
}

void flush(Context& ctx) {
    const ServiceInfo* service = find_service("queued");
    auto bus = bus::open(ctx.scope());
    if (!bus) throw CommandError(bus.error().message);
    bus::BusError error;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(bus->get(), std::string(service->bus_name).c_str(), std::string(kDaemonObjectPath).c_str(),
                               "org.pmx.QueueRunner1", "Flush", error.get(), &reply, "");
    bus::MessagePtr owned{reply};
    if (r < 0) {
        // Like Reload() for the scheduled jobs: a Queue Runner that is not running has nothing to flush
        // (it tries every deferred entry when it starts), so the queue-flush job does not fail.
        if (error.has_name(SD_BUS_ERROR_SERVICE_UNKNOWN) || error.has_name(SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
            if (ctx.json) fmt::print("{{\"made_due\":0,\"running\":false}}\n");
            else if (!ctx.quiet)
                fmt::print("{} is not running: nothing to flush (start it with: pmx{} start queued)\n", service->unit,
                           ctx.user ? " --user" : "");
            return;
        }
        throw CommandError(fmt::format("Failed to flush the queue: {}", error.describe(r)));
    }
    std::uint32_t n = 0;
    if ((r = sd_bus_message_read(reply, "u", &n)) < 0)
        throw CommandError(fmt::format("Failed to read the reply of Flush(): {}", std::strerror(-r)));
    if (ctx.json) fmt::print("{{\"made_due\":{}}}\n", n);
    else if (!ctx.quiet) fmt::print("Flushed: {} deferred entries are being tried now.\n", n);
}

// Applies fn to each id (locked); reports per id; exit code 1 when any failed.
template <class F>
void for_each_locked(Context& ctx, const std::vector<std::string>& ids, std::string_view verb, F&& fn) {
    for (const auto& id : ids) check_id(id);
    auto spool = open_spool();
    std::vector<std::pair<std::string, std::string>> results;  // id, "" or the error
    for (const auto& id : ids) {
        std::string problem;
        for (int tries = 0; tries < 3; ++tries) {  // it may move between locate and lock
            problem.clear();
            auto state = spool.locate(id);
            if (!state) {
                problem = "no such entry";
                break;
            }
            queue::Spool::LockFailure why{};
            auto f = spool.lock(*state, id, &why);
            if (!f) {
                problem = why == queue::Spool::LockFailure::Busy
                              ? "being delivered right now; try again in a moment"
                              : f.error().message;
                if (why == queue::Spool::LockFailure::Gone) continue;
                break;
            }
            problem = fn(spool, *f);
            break;
        }
        results.emplace_back(id, problem);
    }
    bool any_failed = false;
    if (ctx.json) {
        std::string out = "[";
        for (const auto& [id, p] : results)
            out += fmt::format("{}{{\"id\":{},\"ok\":{},\"error\":{}}}", out.size() > 1 ? "," : "", json_quote(id),
                               p.empty() ? "true" : "false", p.empty() ? "null" : json_quote(p));
        fmt::print("{}]\n", out);
    }
    for (const auto& [id, p] : results) {
        if (!p.empty()) {
            any_failed = true;
            if (!ctx.json) fmt::print(stderr, "pmx: {}: {}\n", id, p);
        } else if (!ctx.json && !ctx.quiet) {
            fmt::print("{}: {}\n", id, verb);
        }
    }
    if (any_failed) ctx.exit_code = 1;
}

void retry(Context& ctx, std::vector<std::string> ids, bool all_failed) {
    if (all_failed) {
        auto spool = open_spool();
        auto failed = spool.ids(State::Failed);
        if (!failed) throw CommandError(failed.error().message);
        ids.insert(ids.end(), failed->begin(), failed->end());
        if (ids.empty()) {
            if (!ctx.quiet && !ctx.json) fmt::print("No failed entries.\n");
            if (ctx.json) fmt::print("[]\n");
            return;
        }
    }
    if (ids.empty()) throw CommandError("pmx queue retry: give entry ids or --all-failed", 2);
    for_each_locked(ctx, ids, "queued again", [](const queue::Spool& spool, queue::EntryFile& f) -> std::string {
        auto& e = f.entry();
        if (f.state() == State::Sent) return "delivered already (sent); nothing to retry";
        if (f.state() == State::Active) return "being delivered right now";
        std::size_t reset = 0;
        for (auto& r : e.recipients) {
            if (r.status == RcptStatus::Failed) {
                r.status = RcptStatus::Pending;
                r.done_us = 0;
                ++reset;
            }
        }
        if (e.count(RcptStatus::Pending) == 0) return "every recipient has it already; nothing to retry";
        e.attempts = 0;
        e.requeued_us = queue::now_realtime_us();
        e.next_attempt_us = 0;
        auto r = spool.rewrite(f, State::Incoming, true);
        return r ? std::string() : r.error().message;
    });
}

void remove(Context& ctx, const std::vector<std::string>& ids) {
    for_each_locked(ctx, ids, "deleted", [](const queue::Spool& spool, queue::EntryFile& f) -> std::string {
        auto r = spool.remove(f);
        return r ? std::string() : r.error().message;
    });
}

void submit(Context& ctx, const std::string& from, const std::vector<std::string>& to, const std::string& kind,
            const std::string& reference, const std::string& file) {
    auto loaded = config::load(config::Layout::from_environment());
    if (!loaded) throw CommandError(fmt::format("Configuration is invalid:\n{}", loaded.error().message));
    queue::Envelope env{.sender = from, .recipients = to, .kind = kind, .reference = reference};
    auto dir = queue::spool_directory(*loaded);
    auto id = file == "-" ? queue::submit(dir, env, read_message(file)) : queue::submit_file(dir, env, file);
    if (!id) throw CommandError(id.error().message);
    if (ctx.json) fmt::print("{{\"id\":{}}}\n", json_quote(*id));
    else if (!ctx.quiet) fmt::print("{}\n", *id);
}

}  // namespace

void add_queue_commands(CLI::App& app, Context& ctx) {
    auto* q = app.add_subcommand("queue", "Queue Runner: list, show, flush, retry and delete outbound queue entries");
    q->require_subcommand(1);
    q->footer("Entries: released mail, digests and notifications pmx-queued delivers to queue.relay.\n"
              "States: incoming, active (being delivered), deferred (waiting to retry), failed, sent.\n"
              "See pmx-queue(1).");

    static std::string list_state;
    static bool list_all = false;
    auto* l = q->add_subcommand("list", "List queue entries (all but sent ones unless --all or --state)");
    l->add_option("--state", list_state, "Only this state: incoming, active, deferred, failed or sent");
    l->add_flag("--all", list_all, "Also delivered entries still kept in sent (queue.sent_keep_seconds)");
    l->callback([&ctx] { list(ctx, list_state, list_all); });

    static std::string show_id;
    static bool show_message = false;
    auto* s = q->add_subcommand("show", "Show one entry: envelope, each recipient's last reply, attempts");
    s->add_option("ID", show_id, "Entry id, as pmx queue list shows it")->required();
    s->add_flag("--message", show_message, "Also print the message as stored");
    s->callback([&ctx] { show(ctx, show_id, show_message); });

    auto* f = q->add_subcommand("flush", "Ask pmx-queued to try every deferred entry now (D-Bus Flush())");
    f->callback([&ctx] { flush(ctx); });

    static std::vector<std::string> retry_ids;
    static bool retry_all_failed = false;
    auto* r = q->add_subcommand("retry", "Put deferred or failed entries back for delivery now, with fresh attempts");
    r->add_option("ID", retry_ids, "Entry ids");
    r->add_flag("--all-failed", retry_all_failed, "Every entry in failed");
    r->callback([&ctx] { retry(ctx, retry_ids, retry_all_failed); });

    static std::vector<std::string> delete_ids;
    auto* d = q->add_subcommand("delete", "Delete entries (the message is not delivered; not while being delivered)");
    d->add_option("ID", delete_ids, "Entry ids")->required();
    d->callback([&ctx] { remove(ctx, delete_ids); });

    // For admins and tests: put a message file into the queue as pmx itself does.
    static std::string sub_from, sub_kind = "notification", sub_ref, sub_file;
    static std::vector<std::string> sub_to;
    auto* sub = q->add_subcommand("submit", "Queue a message file for delivery (FILE or - for standard input)");
    sub->group("");  // hidden: documented in pmx-queue(1)
    sub->add_option("--from", sub_from, "Envelope sender (empty: the null sender <>)");
    sub->add_option("--to", sub_to, "Envelope recipient (repeat for more)")->required();
    sub->add_option("--kind", sub_kind, "What it is: release, forward, digest, notification, report, job-failure");
    sub->add_option("--reference", sub_ref, "Free text shown by pmx queue list/show");
    sub->add_option("FILE", sub_file, "The message (RFC 5322)")->required();
    sub->callback([&ctx] { submit(ctx, sub_from, sub_to, sub_kind, sub_ref, sub_file); });
}

}  // namespace pmx::cli
