#include "store/quarantine_state.hpp"

namespace pmx::store {

Result<std::vector<std::string>> mark_released(Database& db, std::int64_t id, const std::vector<std::string>& recipients,
                                               std::string_view by, std::string_view to, std::int64_t time_us) {
    auto txn = db.transaction();
    if (!txn) return txn.error();
    auto stmt = db.cached(
        "UPDATE quarantine_recipient SET released_us = ?, released_by = ?, released_to = ? "
        "WHERE message_id = ? AND recipient = ? AND released_us IS NULL");
    if (!stmt) return stmt.error();
    std::int64_t when = time_us ? time_us : now_us();
    std::vector<std::string> marked;
    for (const auto& r : recipients) {
        (*stmt)->reset();
        (*stmt)->bind(1, when).bind(2, by).bind(3, to).bind(4, id).bind(5, r);
        if (auto done = (*stmt)->run(); !done) return done.error();
        if (db.changes() == 1) marked.push_back(r);
    }
    if (auto c = txn->commit(); !c) return c.error();
    return marked;
}

}  // namespace pmx::store
