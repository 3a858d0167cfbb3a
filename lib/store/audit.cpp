#include "store/audit.hpp"

#include <algorithm>

namespace pmx::store {

Result<std::int64_t> record_audit(Database& db, const AuditEntry& e) {
    if (e.actor.empty() || e.action.empty())
        return Error{"Failed to record quarantine action: the audit entry names no actor or no action"};
    auto stmt = db.cached(
        "INSERT INTO quarantine_audit (time_us, actor, action, message_id, detail) VALUES (?, ?, ?, ?, ?) RETURNING id");
    if (!stmt) return stmt.error();
    (*stmt)->bind(1, e.time_us ? e.time_us : now_us()).bind(2, e.actor).bind(3, e.action);
    (*stmt)->bind(4, e.message_id).bind(5, e.detail);
    auto row = (*stmt)->step();
    if (!row) return row.error();
    if (!*row) return db.error("record a quarantine action");
    std::int64_t id = (*stmt)->int64(0);
    if (auto done = (*stmt)->run(); !done) return done.error();
    return id;
}

Result<std::vector<AuditEntry>> list_audit(Database& db, const AuditFilter& f) {
    std::string sql = "SELECT id, time_us, actor, action, message_id, detail FROM quarantine_audit WHERE 1 = 1";
    if (f.message_id) sql += " AND message_id = ?";
    if (!f.action.empty()) sql += " AND action = ?";
    if (!f.actor.empty()) sql += " AND actor = ?";
    if (f.since_us) sql += " AND time_us >= ?";
    if (f.until_us) sql += " AND time_us < ?";
    sql += " ORDER BY time_us DESC, id DESC LIMIT ? OFFSET ?";
    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    if (f.message_id) stmt->bind(i++, *f.message_id);
    if (!f.action.empty()) stmt->bind(i++, f.action);
    if (!f.actor.empty()) stmt->bind(i++, f.actor);
    if (f.since_us) stmt->bind(i++, *f.since_us);
    if (f.until_us) stmt->bind(i++, *f.until_us);
    stmt->bind(i, f.limit > 0 ? f.limit : 100).bind(i + 1, std::max(f.offset, 0));

    std::vector<AuditEntry> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return row.error();
        if (!*row) break;
        out.push_back({stmt->int64(0), stmt->int64(1), stmt->text(2), stmt->text(3), stmt->optional_int64(4),
                       stmt->text(5)});
    }
    return out;
}

}  // namespace pmx::store
