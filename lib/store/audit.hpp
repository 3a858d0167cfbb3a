// The quarantine's audit log: who did what to which quarantined message, and when.
// Every action of `pmx quarantine` (release, forward, delete, export, expire), of digest links
// and replies, and later of the web interfaces appends a row. Rows outlive the messages they
// name (expire keeps them), so "who released this?" has an answer after the message is gone.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

struct AuditEntry {
    std::int64_t id = 0;                       // set by record_audit
    std::int64_t time_us = 0;                  // 0 on record: now
    std::string actor{};                       // "root", "alice", "digest-link:bob@example.com", ...
    std::string action{};                      // release | forward | delete | export | expire | sweep | ...
    std::optional<std::int64_t> message_id{};  // the quarantine id; nullopt for actions on no one message
    std::string detail{};                      // for people: "for bob@example.com (queue entry ...)"
};

// Appends one row (inside the caller's transaction when one is open). Returns the id.
// Error when actor or action is empty: an audit row that names nobody is worth nothing.
Result<std::int64_t> record_audit(Database& db, const AuditEntry& entry);

struct AuditFilter {
    std::optional<std::int64_t> message_id{};
    std::string action{};  // exact
    std::string actor{};   // exact
    std::optional<std::int64_t> since_us{};  // time_us >= since
    std::optional<std::int64_t> until_us{};  // time_us <  until
    int limit = 100;
    int offset = 0;
};

// Newest first.
Result<std::vector<AuditEntry>> list_audit(Database& db, const AuditFilter& filter);

}  // namespace pmx::store
