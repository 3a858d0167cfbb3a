#include "store/digest_store.hpp"

#include "util/text.hpp"

namespace pmx::store {

namespace {

// Held for the recipient (migration 4: released_us NULL), recent enough, not listed before.
constexpr std::string_view pending_from =
    " FROM quarantine q"
    " JOIN quarantine_recipient qr ON qr.message_id = q.id"
    " LEFT JOIN digest_listed dl ON dl.message_id = qr.message_id AND dl.recipient = qr.recipient"
    " LEFT JOIN digest_recipient dr ON dr.recipient = lower(qr.recipient)"
    " WHERE q.time_us >= ? AND qr.released_us IS NULL AND dl.message_id IS NULL"
    " AND coalesce(dr.opted_out, 0) = 0";

}  // namespace

Result<std::vector<PendingRecipient>> digest_pending_recipients(Database& db, std::int64_t since_us,
                                                                std::optional<std::string_view> only) {
    std::string sql = "SELECT lower(qr.recipient), count(*)";
    sql += pending_from;
    if (only) sql += " AND lower(qr.recipient) = ?";
    sql += " GROUP BY lower(qr.recipient) ORDER BY 1";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind(1, since_us);
    if (only) stmt->bind(2, ascii_lower(*only));
    std::vector<PendingRecipient> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({stmt->text(0), stmt->int64(1)});
    }
    return out;
}

Result<std::vector<DigestEntry>> digest_pending_entries(Database& db, std::string_view address,
                                                        std::int64_t since_us, int limit) {
    std::string sql = "SELECT q.id, qr.recipient, q.time_us, q.sender, q.subject, q.reason, q.score";
    sql += pending_from;
    sql += " AND lower(qr.recipient) = ? ORDER BY q.time_us DESC, q.id DESC LIMIT ?";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    stmt->bind(1, since_us).bind(2, ascii_lower(address)).bind(3, limit);
    std::vector<DigestEntry> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({stmt->int64(0), stmt->text(1), stmt->int64(2), stmt->text(3), stmt->text(4), stmt->text(5),
                       stmt->optional_real(6)});
    }
    return out;
}

Result<void> digest_mark_listed(Database& db, std::string_view address, std::span<const DigestEntry> entries,
                                std::int64_t listed_count, std::int64_t digest_us) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto ins = db.prepare(
        "INSERT INTO digest_listed (message_id, recipient, digest_us) VALUES (?, ?, ?) "
        "ON CONFLICT (message_id, recipient) DO NOTHING");
    if (!ins) return ins.error();
    for (const auto& e : entries) {
        ins->reset();
        ins->bind(1, e.id).bind(2, e.recipient).bind(3, digest_us);
        if (auto r = ins->run(); !r) return r.error();
    }
    auto up = db.prepare(
        "INSERT INTO digest_recipient (recipient, last_digest_us, last_entries) VALUES (?, ?, ?) "
        "ON CONFLICT (recipient) DO UPDATE SET last_digest_us = excluded.last_digest_us, "
        "last_entries = excluded.last_entries");
    if (!up) return up.error();
    up->bind(1, ascii_lower(address)).bind(2, digest_us).bind(3, listed_count);
    if (auto r = up->run(); !r) return r.error();
    return tx->commit();
}

namespace {

DigestRecipientState state_row(const Statement& s) {
    return {s.text(0), s.int64(1), s.int64(2), s.int64(3) != 0, s.int64(4)};
}

constexpr std::string_view state_columns = "recipient, last_digest_us, last_entries, opted_out, changed_us";

}  // namespace

Result<std::optional<DigestRecipientState>> digest_recipient_state(Database& db, std::string_view address) {
    auto stmt = db.prepare(std::string("SELECT ") + std::string(state_columns) +
                           " FROM digest_recipient WHERE recipient = ?");
    if (!stmt) return stmt.error();
    stmt->bind(1, ascii_lower(address));
    auto row = stmt->step();
    if (!row) return row.error();
    if (!*row) return std::optional<DigestRecipientState>();
    return std::optional<DigestRecipientState>(state_row(*stmt));
}

Result<bool> digest_set_opt_out(Database& db, std::string_view address, bool opted_out, std::int64_t now_us) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto st = digest_recipient_state(db, address);
    if (!st) return st.error();
    const bool was = *st && (*st)->opted_out;
    if (was == opted_out) return false;
    auto stmt = db.prepare(
        "INSERT INTO digest_recipient (recipient, opted_out, changed_us) VALUES (?, ?, ?) "
        "ON CONFLICT (recipient) DO UPDATE SET opted_out = excluded.opted_out, changed_us = excluded.changed_us");
    if (!stmt) return stmt.error();
    stmt->bind(1, ascii_lower(address)).bind(2, opted_out ? 1 : 0).bind(3, now_us);
    if (auto r = stmt->run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return true;
}

Result<std::vector<DigestRecipientState>> digest_opt_outs(Database& db) {
    auto stmt = db.prepare(std::string("SELECT ") + std::string(state_columns) +
                           " FROM digest_recipient WHERE opted_out = 1 ORDER BY recipient");
    if (!stmt) return stmt.error();
    std::vector<DigestRecipientState> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back(state_row(*stmt));
    }
    return out;
}

}  // namespace pmx::store
