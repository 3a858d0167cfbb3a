// The IP Blocker's tables (schema version 3): blocks, the block log, and what dynamic
// blocking reads from the message log. Used by pmx-ipblockd and `pmx ipblock`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipblock/lists.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::ipblock {

// ipblock_version: bumped by every change of the ipblock table.
Result<std::int64_t> block_version(store::Database& db);

// Rows of the ipblock table, newest first; expired ones too when include_expired.
Result<std::vector<BlockRow>> read_blocks(store::Database& db, bool include_expired, std::int64_t now_us);
Result<std::optional<BlockRow>> find_block(store::Database& db, const std::string& network);

// Inserts or replaces the row for row.network, and logs a "block" event, in one transaction.
Result<void> put_block(store::Database& db, const BlockRow& row);
// Deletes it and logs an "unblock" event. false: there was none.
Result<bool> remove_block(store::Database& db, const std::string& network, const std::string& why);
Result<void> log_event(store::Database& db, std::int64_t time_us, const std::string& network, const std::string& action,
                       const std::string& source, const std::string& reason);
// Deletes dynamic rows that expired before `before_us` (their offense count is forgotten).
Result<std::int64_t> forget_expired(store::Database& db, std::int64_t before_us);

// Network → time of its latest block event (block, unblock, expire) at or after since_us.
Result<std::map<std::string, std::int64_t>> last_events(store::Database& db, std::int64_t since_us);

struct EventCount {
    std::string action, source;
    std::int64_t count = 0;
};
Result<std::vector<EventCount>> count_events(store::Database& db, std::int64_t since_us);

// One message of the message log as dynamic blocking sees it.
struct LogFact {
    std::int64_t id = 0;
    std::int64_t time_us = 0;
    std::string client_ip{};
    bool spam = false;
};

// What makes a logged message spam (or a virus) for dynamic blocking: some recipient's
// verdict is quarantine, reject or discard and a policy rule decided it (a rule in `rules`
// when that is not empty); or, when min_score > 0, its spam score is at least min_score.
struct SpamDefinition {
    std::vector<std::string> rules{};  // empty: any rule
    double min_score = 0;            // 0: the score alone never counts
};

Result<std::int64_t> max_log_id(store::Database& db);
// The id just before the first row at or after time_us (where a fresh start begins reading).
Result<std::int64_t> log_id_before(store::Database& db, std::int64_t time_us);
// Rows with after < id <= upto, in id order.
Result<std::vector<LogFact>> read_log_facts(store::Database& db, std::int64_t after, std::int64_t upto,
                                            const SpamDefinition& spam);

}  // namespace pmx::ipblock
