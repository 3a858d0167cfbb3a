#include "ipblock/block_store.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace pmx::ipblock {

namespace {

constexpr std::string_view kColumns = "network, source, reason, added_us, expires_us, offenses";

BlockRow read_row(const store::Statement& s) {
    BlockRow r;
    r.network = s.text(0);
    r.source = s.text(1);
    r.reason = s.text(2);
    r.added_us = s.int64(3);
    r.expires_us = s.optional_int64(4);
    r.offenses = s.int64(5);
    return r;
}

}  // namespace

Result<std::int64_t> block_version(store::Database& db) {
    auto s = db.cached("SELECT version FROM ipblock_version WHERE id = 1");
    if (!s) return s.error();
    auto row = (*s)->step();
    if (!row) return row.error();
    return *row ? (*s)->int64(0) : 0;
}

Result<std::vector<BlockRow>> read_blocks(store::Database& db, bool include_expired, std::int64_t now_us) {
    std::string sql = fmt::format("SELECT {} FROM ipblock{} ORDER BY added_us DESC, network", kColumns,
                                  include_expired ? "" : " WHERE expires_us IS NULL OR expires_us > ?");
    auto s = db.prepare(sql);
    if (!s) return s.error();
    if (!include_expired) s->bind(1, now_us);
    std::vector<BlockRow> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back(read_row(*s));
    }
    return out;
}

Result<std::optional<BlockRow>> find_block(store::Database& db, const std::string& network) {
    auto s = db.prepare(fmt::format("SELECT {} FROM ipblock WHERE network = ?", kColumns));
    if (!s) return s.error();
    s->bind(1, network);
    auto row = s->step();
    if (!row) return row.error();
    if (!*row) return std::optional<BlockRow>();
    return std::optional<BlockRow>(read_row(*s));
}

Result<void> log_event(store::Database& db, std::int64_t time_us, const std::string& network, const std::string& action,
                       const std::string& source, const std::string& reason) {
    auto s = db.cached("INSERT INTO ipblock_event (time_us, network, action, source, reason) VALUES (?, ?, ?, ?, ?)");
    if (!s) return s.error();
    (*s)->bind(1, time_us).bind(2, network).bind(3, action).bind(4, source).bind(5, reason);
    return (*s)->run();
}

Result<void> put_block(store::Database& db, const BlockRow& row) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto s = db.cached(
        "INSERT INTO ipblock (network, source, reason, added_us, expires_us, offenses) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (network) DO UPDATE SET source = excluded.source, reason = excluded.reason, "
        "added_us = excluded.added_us, expires_us = excluded.expires_us, offenses = excluded.offenses");
    if (!s) return s.error();
    (*s)->bind(1, row.network).bind(2, row.source).bind(3, row.reason).bind(4, row.added_us);
    (*s)->bind(5, row.expires_us).bind(6, row.offenses);
    if (auto r = (*s)->run(); !r) return r;
    if (auto r = log_event(db, row.added_us, row.network, "block", row.source, row.reason); !r) return r;
    return tx->commit();
}

Result<bool> remove_block(store::Database& db, const std::string& network, const std::string& why) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto found = find_block(db, network);
    if (!found) return found.error();
    if (!*found) return false;
    auto s = db.prepare("DELETE FROM ipblock WHERE network = ?");
    if (!s) return s.error();
    s->bind(1, network);
    if (auto r = s->run(); !r) return r.error();
    if (auto r = log_event(db, store::now_us(), network, "unblock", (*found)->source, why); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return true;
}

Result<std::int64_t> forget_expired(store::Database& db, std::int64_t before_us) {
    auto s = db.prepare("DELETE FROM ipblock WHERE source = 'dynamic' AND expires_us IS NOT NULL AND expires_us < ?");
    if (!s) return s.error();
    s->bind(1, before_us);
    if (auto r = s->run(); !r) return r.error();
    return db.changes();
}

Result<std::map<std::string, std::int64_t>> last_events(store::Database& db, std::int64_t since_us) {
    auto s = db.prepare("SELECT network, max(time_us) FROM ipblock_event WHERE time_us >= ? GROUP BY network");
    if (!s) return s.error();
    s->bind(1, since_us);
    std::map<std::string, std::int64_t> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out[s->text(0)] = s->int64(1);
    }
    return out;
}

Result<std::vector<EventCount>> count_events(store::Database& db, std::int64_t since_us) {
    auto s = db.prepare(
        "SELECT action, source, count(*) FROM ipblock_event WHERE time_us >= ? GROUP BY action, source ORDER BY 1, 2");
    if (!s) return s.error();
    s->bind(1, since_us);
    std::vector<EventCount> out;
    for (;;) {
        auto row = s->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({s->text(0), s->text(1), s->int64(2)});
    }
    return out;
}

Result<std::int64_t> max_log_id(store::Database& db) {
    auto s = db.cached("SELECT coalesce(max(id), 0) FROM message_log");
    if (!s) return s.error();
    auto row = (*s)->step();
    if (!row) return row.error();
    return (*s)->int64(0);
}

Result<std::int64_t> log_id_before(store::Database& db, std::int64_t time_us) {
    auto s = db.prepare("SELECT min(id) FROM message_log WHERE time_us >= ?");
    if (!s) return s.error();
    s->bind(1, time_us);
    auto row = s->step();
    if (!row) return row.error();
    if (s->is_null(0)) return max_log_id(db);
    return s->int64(0) - 1;
}

Result<std::vector<LogFact>> read_log_facts(store::Database& db, std::int64_t after, std::int64_t upto,
                                            const SpamDefinition& spam) {
    // One row per message, plus one per recipient with a spam-like verdict a rule decided
    // (LEFT JOIN: none for clean mail). Plain SQL both backends read alike.
    auto s = db.cached(
        "SELECT l.id, l.time_us, l.client_ip, l.score, r.rule FROM message_log l "
        "LEFT JOIN message_log_recipient r ON r.log_id = l.id "
        "AND r.verdict IN ('quarantine', 'reject', 'discard') AND r.rule <> '' "
        "WHERE l.id > ? AND l.id <= ? ORDER BY l.id");
    if (!s) return s.error();
    (*s)->bind(1, after).bind(2, upto);
    std::vector<LogFact> out;
    for (;;) {
        auto row = (*s)->step();
        if (!row) return row.error();
        if (!*row) break;
        std::int64_t id = (*s)->int64(0);
        if (out.empty() || out.back().id != id) {
            LogFact f;
            f.id = id;
            f.time_us = (*s)->int64(1);
            f.client_ip = (*s)->text(2);
            auto score = (*s)->optional_real(3);
            f.spam = spam.min_score > 0 && score && *score >= spam.min_score;
            out.push_back(std::move(f));
        }
        if (!(*s)->is_null(4)) {
            std::string rule = (*s)->text(4);
            if (spam.rules.empty() || std::find(spam.rules.begin(), spam.rules.end(), rule) != spam.rules.end())
                out.back().spam = true;
        }
    }
    return out;
}

}  // namespace pmx::ipblock
