// pmx quarantine digest|digest-reply|digest-optout|release-link: digests of newly quarantined
// mail (lib/digest), release by replying to one or by its link token.
#include <fmt/format.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>

#include "commands.hpp"
#include "config/loader.hpp"
#include "digest/builder.hpp"
#include "digest/reply.hpp"
#include "digest/templates.hpp"
#include "digest/token_release.hpp"
#include "output.hpp"
#include "queue/submit.hpp"
#include "secret/keyring.hpp"
#include "store/digest_store.hpp"
#include "store/lists_store.hpp"
#include "store/store_config.hpp"

namespace pmx::cli {

namespace {

constexpr int ex_tempfail = 75;  // sysexits EX_TEMPFAIL: Postfix's pipe(8) keeps the mail and retries

// What every digest command needs, from the configuration. code: the exit code when one part
// is missing (75 for digest-reply, so Postfix retries once the admin fixed it).
struct Env {
    std::optional<config::Snapshot> snapshot;
    config::Layout layout;
    store::StorePaths paths;
    std::filesystem::path spool_dir;
    std::optional<store::Database> db;
    secret::Keyring keyring;

    quarantine::Places places() const { return {paths.quarantine_dir, spool_dir}; }
};

Env open_env(int code, bool with_keyring = true) {
    Env e;
    e.layout = config::Layout::from_environment();
    auto snap = config::load(e.layout);
    if (!snap) throw CommandError(fmt::format("Configuration is invalid:\n{}", snap.error().message), code);
    e.snapshot.emplace(std::move(*snap));
    e.paths = store::store_paths(*e.snapshot);
    e.spool_dir = queue::spool_directory(*e.snapshot);
    auto db = store::Database::open(e.paths.database);
    if (!db) throw CommandError(db.error().message, code);
    e.db.emplace(std::move(*db));
    if (with_keyring) {
        auto ring = secret::load_or_create_keyring(secret::keyring_path(*e.snapshot));
        if (!ring) throw CommandError(ring.error().message, code);
        if (ring->empty()) throw CommandError("Failed to sign or check release links: the keyring has no key", code);
        e.keyring = std::move(*ring);
    }
    return e;
}

// Logged to the journal as well as printed: digest-reply runs under Postfix, which keeps
// the output of a successful delivery nowhere.
void journal(int priority, const std::string& message) {
    sd_journal_send("MESSAGE=%s", message.c_str(), "PRIORITY=%i", priority, "SYSLOG_IDENTIFIER=pmx-digest", nullptr);
}

// ---- pmx quarantine digest ----------------------------------------------------------------

struct DigestArgs {
    std::string recipient;
    bool dry_run = false;
    bool print = false;
};

void digest(Context& ctx, const DigestArgs& a) {
    Env env = open_env(1);
    auto& db = *env.db;
    const auto settings = digest::settings_from(*env.snapshot);
    auto templates = digest::load_templates(digest::template_dirs(*env.snapshot, env.layout));
    if (!templates) throw CommandError(templates.error().message);
    const auto now = store::now_us();
    const auto since = now - settings.max_age_us;

    std::optional<std::string_view> only;
    std::string only_address;
    if (!a.recipient.empty()) {
        auto o = store::normalize_owner(a.recipient);
        if (!o || o->empty()) throw CommandError(fmt::format("--recipient: \"{}\" is not an address", a.recipient), 2);
        only_address = *o;
        only = only_address;
        auto st = store::digest_recipient_state(db, only_address);
        if (!st) throw CommandError(st.error().message);
        if (*st && (*st)->opted_out && !ctx.quiet && !ctx.json)
            fmt::print("{} opted out of digests (pmx quarantine digest-optout {} --undo to opt in again)\n",
                       only_address, only_address);
    }
    auto pending = store::digest_pending_recipients(db, since, only);
    if (!pending) throw CommandError(pending.error().message);

    std::string json;
    int sent = 0, failed = 0;
    std::int64_t listed_total = 0;
    for (const auto& p : *pending) {
        const int all = static_cast<int>(std::min<std::int64_t>(p.entries, 1000000));  // listed or only counted
        auto entries = store::digest_pending_entries(db, p.address, since, all);
        if (!entries) throw CommandError(entries.error().message);
        digest::Input in;
        in.recipient = p.address;
        in.total_new = static_cast<std::int64_t>(entries->size());
        in.now_us = now;
        const auto listed = std::min<std::size_t>(entries->size(), static_cast<std::size_t>(settings.max_entries));
        in.entries.assign(entries->begin(), entries->begin() + static_cast<std::ptrdiff_t>(listed));
        auto built = digest::build(settings, *templates, env.keyring, in);
        if (!built) {
            ++failed;
            fmt::print(stderr, "Failed to build the digest for {}: {}, skipping\n", printable(p.address),
                       built.error().message);
            continue;
        }
        std::string queue_entry;
        if (!a.dry_run) {
            queue::Envelope envelope{settings.from, {p.address}, "digest",
                                     fmt::format("digest for {}, {} held", p.address, in.total_new)};
            auto id = queue::submit(env.spool_dir, envelope, built->message);
            if (!id) {
                ++failed;
                fmt::print(stderr, "Failed to queue the digest for {}: {}\n", printable(p.address), id.error().message);
                continue;
            }
            queue_entry = *id;
            // After the queue has it: a crash here sends these entries again next time, never drops them.
            if (auto m = store::digest_mark_listed(db, p.address, *entries, static_cast<std::int64_t>(listed), now); !m)
                throw CommandError(fmt::format("Queued the digest for {} (entry {}), but failed to record it: {}",
                                               p.address, queue_entry, m.error().message));
        }
        ++sent;
        listed_total += static_cast<std::int64_t>(listed);
        if (a.print) {
            std::fwrite(built->message.data(), 1, built->message.size(), stdout);
            continue;
        }
        if (ctx.json) {
            std::string ids;
            for (const auto& e : in.entries) ids += (ids.empty() ? "" : ",") + std::to_string(e.id);
            json += fmt::format("{}{{\"recipient\":{},\"new\":{},\"listed\":[{}],\"message_id\":{},\"queue_entry\":{},"
                                "\"dry_run\":{}}}",
                                json.empty() ? "" : ",\n ", json_quote(p.address), in.total_new, ids,
                                json_quote(built->message_id), json_quote(queue_entry), a.dry_run ? "true" : "false");
        } else if (!ctx.quiet) {
            if (a.dry_run)
                fmt::print("Would send {} a digest of {} new held message{} (listing {})\n", printable(p.address),
                           in.total_new, in.total_new == 1 ? "" : "s", listed);
            else
                fmt::print("Sent {} a digest of {} new held message{} (listing {}; queue entry {})\n",
                           printable(p.address), in.total_new, in.total_new == 1 ? "" : "s", listed, queue_entry);
            for (const auto& e : in.entries)
                fmt::print("  {:>6}  {}  {}  {}\n", e.id, format_timestamp_usec(static_cast<unsigned long long>(e.time_us)),
                           e.sender.empty() ? "<>" : printable(e.sender), printable(e.subject));
        }
    }
    if (ctx.json && !a.print) fmt::print("[{}]\n", json);
    if (!ctx.json && !ctx.quiet && !a.print) {
        if (pending->empty())
            fmt::print("No digests to send: no new held messages{}.\n",
                       only ? fmt::format(" for {}", only_address) : std::string());
        else
            fmt::print("{} {} digest{} listing {} message{}{}.\n", a.dry_run ? "Would send" : "Sent", sent,
                       sent == 1 ? "" : "s", listed_total, listed_total == 1 ? "" : "s",
                       failed ? fmt::format("; {} failed", failed) : std::string());
    }
    if (!a.dry_run && sent > 0)
        journal(LOG_INFO, fmt::format("Sent {} digest{} listing {} held message{}", sent, sent == 1 ? "" : "s",
                                      listed_total, listed_total == 1 ? "" : "s"));
    if (failed) ctx.exit_code = 1;
}

// ---- pmx quarantine digest-reply ----------------------------------------------------------

struct ReplyArgs {
    std::string sender;
    bool sender_given = false;
};

// Reads at most max bytes of stdin, then drains the rest (the MTA writing it must not see
// a broken pipe).
std::string read_stdin_capped(std::size_t max, bool* cut) {
    std::string data;
    char buf[65536];
    *cut = false;
    for (;;) {
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw CommandError(fmt::format("Failed to read the reply from stdin: {}", std::strerror(errno)), ex_tempfail);
        }
        if (n == 0) break;
        auto take = std::min<std::size_t>(static_cast<std::size_t>(n), max - std::min(max, data.size()));
        data.append(buf, take);
        if (take < static_cast<std::size_t>(n)) *cut = true;
    }
    return data;
}

void digest_reply(Context& ctx, const ReplyArgs& a) {
    Env env = open_env(ex_tempfail);
    const auto settings = digest::settings_from(*env.snapshot);
    bool cut = false;
    const std::string raw = read_stdin_capped(settings.max_reply_bytes, &cut);
    const std::string* envelope_sender = a.sender_given ? &a.sender : nullptr;
    auto scan = digest::scan_reply(raw, envelope_sender, static_cast<std::size_t>(settings.max_entries));
    // Who the reply is from: the envelope sender when the MTA passed it, else the From header.
    std::string from = scan.from;
    if (a.sender_given) {
        auto n = store::normalize_owner(a.sender);
        from = n ? *n : "";
    }
    const std::string who = from.empty() ? "an unknown sender" : from;

    std::string json;
    int released = 0, already = 0, refused = 0, failed = 0;
    if (!scan.ignored.empty()) {
        const auto msg = fmt::format("Ignored a reply to a digest from {} ({}): {}", who,
                                     scan.message_id.empty() ? "no Message-ID" : scan.message_id, scan.ignored);
        journal(LOG_NOTICE, msg);
        if (ctx.json)
            fmt::print("{{\"from\":{},\"ignored\":{},\"results\":[]}}\n", json_quote(from), json_quote(scan.ignored));
        else if (!ctx.quiet)
            fmt::print("{}\n", printable(msg));
        return;  // 0: the MTA is done with it; nothing bounces, nothing loops
    }
    for (const auto& token : scan.tokens) {
        digest::TokenRelease r;
        if (from.empty()) {
            r.detail = "the reply has no sender address to check the code against";
        } else {
            r = digest::release_by_token(*env.db, env.places(), env.keyring, token, "digest-reply", from,
                                         store::now_us());
        }
        switch (r.outcome) {
        case digest::TokenOutcome::Released: ++released; break;
        case digest::TokenOutcome::AlreadyReleased: ++already; break;
        case digest::TokenOutcome::Refused: ++refused; break;
        case digest::TokenOutcome::Failed: ++failed; break;
        }
        const auto line = fmt::format("Reply from {}: {}: {}", who, digest::to_string(r.outcome), r.detail);
        journal(r.outcome == digest::TokenOutcome::Failed ? LOG_ERR
                : r.outcome == digest::TokenOutcome::Refused ? LOG_WARNING
                                                               : LOG_INFO,
                line);
        if (ctx.json)
            json += fmt::format("{}{{\"quarantine_id\":{},\"recipient\":{},\"outcome\":{},\"detail\":{},\"queue_entry\":{}}}",
                                json.empty() ? "" : ",", r.claim.quarantine_id, json_quote(r.claim.recipient),
                                json_quote(digest::to_string(r.outcome)), json_quote(r.detail), json_quote(r.queue_entry));
        else if (!ctx.quiet)
            fmt::print("{}\n", printable(line));
    }
    const auto summary = fmt::format("Reply to a digest from {}: {} released, {} already released, {} refused, {} failed{}",
                                     who, released, already, refused, failed,
                                     cut ? " (the reply was longer than digest.max_reply_bytes: the rest was not read)" : "");
    journal(LOG_INFO, summary);
    if (ctx.json)
        fmt::print("{{\"from\":{},\"ignored\":\"\",\"released\":{},\"already_released\":{},\"refused\":{},\"failed\":{},"
                   "\"results\":[{}]}}\n",
                   json_quote(from), released, already, refused, failed, json);
    else if (!ctx.quiet)
        fmt::print("{}\n", printable(summary));
    // Failures of the database or the spool: Postfix keeps the reply and tries again later;
    // what was released already is "already released" then, not sent twice.
    if (failed) ctx.exit_code = ex_tempfail;
}

// ---- pmx quarantine digest-optout ---------------------------------------------------------

struct OptOutArgs {
    std::string address;
    bool undo = false;
};

void digest_optout(Context& ctx, const OptOutArgs& a) {
    Env env = open_env(1, false);
    auto& db = *env.db;
    if (a.address.empty()) {
        auto list = store::digest_opt_outs(db);
        if (!list) throw CommandError(list.error().message);
        if (ctx.json) {
            std::string out;
            for (const auto& s : *list)
                out += fmt::format("{}{{\"address\":{},\"since_us\":{},\"last_digest_us\":{}}}", out.empty() ? "" : ",\n ",
                                   json_quote(s.address), s.changed_us, s.last_digest_us);
            fmt::print("[{}]\n", out);
            return;
        }
        if (list->empty()) {
            if (!ctx.quiet) fmt::print("Nobody opted out of digests.\n");
            return;
        }
        Table t({"ADDRESS", "OPTED OUT", "LAST DIGEST"});
        for (const auto& s : *list)
            t.add({printable(s.address), format_timestamp_usec(static_cast<unsigned long long>(s.changed_us)),
                   format_timestamp_usec(static_cast<unsigned long long>(s.last_digest_us))});
        fmt::print("{}", t.render());
        return;
    }
    auto addr = store::normalize_owner(a.address);
    if (!addr || addr->empty()) throw CommandError(fmt::format("\"{}\" is not an address", a.address), 2);
    auto changed = store::digest_set_opt_out(db, *addr, !a.undo, store::now_us());
    if (!changed) throw CommandError(changed.error().message);
    if (ctx.json) {
        fmt::print("{{\"address\":{},\"opted_out\":{},\"changed\":{}}}\n", json_quote(*addr), a.undo ? "false" : "true",
                   *changed ? "true" : "false");
        return;
    }
    if (ctx.quiet) return;
    const char* what = a.undo ? (*changed ? "gets digests again" : "was not opted out")
                              : (*changed ? "gets no more digests" : "had opted out already");
    fmt::print("{} {}\n", *addr, what);
}

// ---- pmx quarantine release-link ----------------------------------------------------------

void release_link(Context& ctx, const std::string& token) {
    Env env = open_env(1);
    auto r = digest::release_by_token(*env.db, env.places(), env.keyring, token, "digest-link", std::nullopt,
                                      store::now_us());
    journal(r.outcome == digest::TokenOutcome::Released ? LOG_INFO : LOG_WARNING,
            fmt::format("Release link: {}: {}", digest::to_string(r.outcome), r.detail));
    if (ctx.json) {
        fmt::print("{{\"quarantine_id\":{},\"recipient\":{},\"outcome\":{},\"detail\":{},\"queue_entry\":{}}}\n",
                   r.claim.quarantine_id, json_quote(r.claim.recipient), json_quote(digest::to_string(r.outcome)),
                   json_quote(r.detail), json_quote(r.queue_entry));
    } else if (r.outcome == digest::TokenOutcome::Released || r.outcome == digest::TokenOutcome::AlreadyReleased) {
        if (!ctx.quiet)
            fmt::print("{}{}\n", printable(r.detail),
                       r.queue_entry.empty() ? std::string() : fmt::format(" (queue entry {})", r.queue_entry));
    }
    switch (r.outcome) {
    case digest::TokenOutcome::Released:
    case digest::TokenOutcome::AlreadyReleased: return;
    case digest::TokenOutcome::Refused:
        if (ctx.json) { ctx.exit_code = 1; return; }
        throw CommandError(fmt::format("Refused to release: {}", r.detail));
    case digest::TokenOutcome::Failed:
        if (ctx.json) { ctx.exit_code = 1; return; }
        throw CommandError(fmt::format("Failed to release: {}", r.detail));
    }
}

}  // namespace

void add_quarantine_digest_commands(CLI::App& q, Context& ctx) {
    static DigestArgs digest_args;
    auto* d = q.add_subcommand("digest", "Send each recipient a digest of their newly held messages, with release links");
    d->add_option("--recipient", digest_args.recipient, "Only this recipient's digest");
    d->add_flag("--dry-run", digest_args.dry_run, "Build the digests and say what would be sent; send and record nothing");
    d->add_flag("--print", digest_args.print, "Print each digest message (MIME) instead of a summary");
    d->add_flag("--json", ctx.json, "Print JSON");
    d->callback([&ctx] { digest(ctx, digest_args); });

    static ReplyArgs reply_args;
    auto* r = q.add_subcommand("digest-reply",
                               "Release what a reply to a digest (a message on stdin) asks for; for a Postfix pipe transport");
    r->add_option("--sender", reply_args.sender,
                  "The envelope sender (Postfix: ${sender}); the codes must be for this address")
        ->each([](const std::string&) { reply_args.sender_given = true; });
    r->add_flag("--json", ctx.json, "Print JSON");
    r->footer("Exit status: 0 when the reply was handled (also when it released nothing), 75 (EX_TEMPFAIL) when the "
              "database, keyring or spool failed: Postfix keeps the reply and tries again.");
    r->callback([&ctx] { digest_reply(ctx, reply_args); });

    static OptOutArgs optout_args;
    auto* o = q.add_subcommand("digest-optout", "Stop (or with --undo resume) digests for an address; no address: list");
    o->add_option("ADDRESS", optout_args.address, "The recipient's address");
    o->add_flag("--undo", optout_args.undo, "Opt in again");
    o->add_flag("--json", ctx.json, "Print JSON");
    o->callback([&ctx] {
        if (optout_args.undo && optout_args.address.empty()) throw CommandError("--undo needs an ADDRESS", 2);
        digest_optout(ctx, optout_args);
    });

    static std::string link_token;
    auto* l = q.add_subcommand("release-link", "Release the message a digest's release link or code names");
    l->add_option("TOKEN", link_token, "The token: the end of the link, or the release code")->required();
    l->add_flag("--json", ctx.json, "Print JSON");
    l->callback([&ctx] { release_link(ctx, link_token); });
}

}  // namespace pmx::cli
