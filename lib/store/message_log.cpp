#include "store/message_log.hpp"

#include <fmt/format.h>

#include "store/list_match.hpp"

namespace pmx::store {

namespace {

using policy::Outcome;

std::string join_rules(const std::vector<std::string>& rules) {
    std::string out;
    for (const auto& r : rules) {
        if (r.empty()) continue;
        if (!out.empty()) out += ',';
        for (char c : r) out += c == ',' ? '_' : c;
    }
    return out;
}

std::vector<std::string> split_rules(std::string_view text) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        if (auto item = text.substr(0, comma); !item.empty()) out.emplace_back(item);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string canonical_ip(std::string_view ip) { return normalize_client_ip(ip).value_or(std::string(ip)); }

}  // namespace

std::optional<Outcome> parse_verdict(std::string_view text) {
    for (auto o : {Outcome::Accept, Outcome::Quarantine, Outcome::Reject, Outcome::Tempfail, Outcome::Discard})
        if (policy::outcome_name(o) == text) return o;
    return std::nullopt;
}

LogEntry make_log_entry(const policy::Envelope& envelope, const policy::Decision& decision,
                        const policy::ScanFacts& facts) {
    LogEntry e;
    e.queue_id = envelope.queue_id;
    e.client_ip = envelope.client_ip;
    e.sender = envelope.sender;
    e.score = facts.spam_score;
    e.rules = facts.spam_rules;
    for (const auto& d : decision.recipients) {
        LogRecipient r{d.recipient, d.outcome, d.decided_by, {}};
        if (d.outcome == Outcome::Reject || d.outcome == Outcome::Tempfail) {
            r.detail = d.smtp_code;
            if (!d.smtp_xcode.empty()) r.detail += " " + d.smtp_xcode;
            if (!d.smtp_text.empty()) r.detail += " " + d.smtp_text;
        } else {
            r.detail = d.quarantine_reason;  // also set when a copy is quarantined while delivering
        }
        e.recipients.push_back(std::move(r));
    }
    return e;
}

Result<std::int64_t> append_log(Database& db, const LogEntry& entry) {
    auto txn = db.transaction();
    if (!txn) return txn.error();
    auto row = db.cached(
        "INSERT INTO message_log (time_us, queue_id, client_ip, sender, size, score, rules, elapsed_us, node, "
        "quarantine_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    if (!row) return row.error();
    (*row)->bind(1, entry.time_us ? entry.time_us : now_us()).bind(2, entry.queue_id);
    (*row)->bind(3, canonical_ip(entry.client_ip)).bind(4, entry.sender);
    (*row)->bind(5, static_cast<std::int64_t>(entry.size)).bind(6, entry.score).bind(7, join_rules(entry.rules));
    (*row)->bind(8, entry.elapsed_us).bind(9, entry.node).bind(10, entry.quarantine_id);
    auto stepped = (*row)->step();
    if (!stepped) return stepped.error();
    if (!*stepped) return Error{fmt::format("Failed to write to database {}: no id returned", db.path().string())};
    std::int64_t id = (*row)->int64(0);
    if (auto done = (*row)->run(); !done) return done.error();

    auto rcpt = db.cached(
        "INSERT INTO message_log_recipient (log_id, position, recipient, verdict, rule, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    if (!rcpt) return rcpt.error();
    int position = 0;
    for (const auto& r : entry.recipients) {
        (*rcpt)->reset();
        (*rcpt)->bind(1, id).bind(2, position++).bind(3, r.address).bind(4, policy::outcome_name(r.verdict));
        (*rcpt)->bind(5, r.rule).bind(6, r.detail);
        if (auto done = (*rcpt)->run(); !done) return done.error();
    }
    if (auto c = txn->commit(); !c) return c.error();
    return id;
}

Result<std::vector<LogEntry>> recent_log(Database& db, const LogFilter& f) {
    std::string sql =
        "SELECT m.id, m.time_us, m.queue_id, m.client_ip, m.sender, m.size, m.score, m.rules, m.elapsed_us, m.node, "
        "m.quarantine_id FROM message_log m WHERE 1 = 1";
    if (!f.sender.empty()) sql += " AND lower(m.sender) LIKE ? ESCAPE '\\'";
    if (!f.recipient.empty())
        sql += " AND EXISTS (SELECT 1 FROM message_log_recipient r WHERE r.log_id = m.id"
               " AND lower(r.recipient) LIKE ? ESCAPE '\\')";
    if (f.verdict)
        sql += " AND EXISTS (SELECT 1 FROM message_log_recipient v WHERE v.log_id = m.id AND v.verdict = ?)";
    if (!f.client_ip.empty()) sql += " AND m.client_ip = ?";
    if (f.since_us) sql += " AND m.time_us >= ?";
    if (f.until_us) sql += " AND m.time_us < ?";
    sql += " ORDER BY m.time_us DESC, m.id DESC LIMIT ?";

    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    if (!f.sender.empty()) stmt->bind(i++, like_substring(f.sender));
    if (!f.recipient.empty()) stmt->bind(i++, like_substring(f.recipient));
    if (f.verdict) stmt->bind(i++, policy::outcome_name(*f.verdict));
    if (!f.client_ip.empty()) stmt->bind(i++, canonical_ip(f.client_ip));
    if (f.since_us) stmt->bind(i++, *f.since_us);
    if (f.until_us) stmt->bind(i++, *f.until_us);
    stmt->bind(i++, f.limit > 0 ? f.limit : 50);

    std::vector<LogEntry> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        LogEntry e;
        e.id = stmt->int64(0);
        e.time_us = stmt->int64(1);
        e.queue_id = stmt->text(2);
        e.client_ip = stmt->text(3);
        e.sender = stmt->text(4);
        e.size = static_cast<std::uint64_t>(stmt->int64(5));
        e.score = stmt->optional_real(6);
        e.rules = split_rules(stmt->text(7));
        e.elapsed_us = stmt->int64(8);
        e.node = stmt->text(9);
        e.quarantine_id = stmt->optional_int64(10);
        out.push_back(std::move(e));
    }

    auto rcpt = db.prepare(
        "SELECT recipient, verdict, rule, detail FROM message_log_recipient WHERE log_id = ? ORDER BY position");
    if (!rcpt) return rcpt.error();
    for (auto& e : out) {
        rcpt->reset();
        rcpt->bind(1, e.id);
        for (;;) {
            auto row = rcpt->step();
            if (!row) return row.error();
            if (!*row) break;
            e.recipients.push_back({rcpt->text(0), parse_verdict(rcpt->text(1)).value_or(Outcome::Accept),
                                    rcpt->text(2), rcpt->text(3)});
        }
    }
    return out;
}

}  // namespace pmx::store
