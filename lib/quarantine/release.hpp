// Letting a quarantined message go: to the recipients it was held for (or some of them), or
// to another address, through pmx-queued (lib/queue/submit.hpp). Used by `pmx quarantine
// release`, by digest links and replies, and later by the web interfaces.
//
// The message is submitted to the spool first (durable), and only then marked released for
// those recipients and the action recorded in the audit log, in one transaction: a crash in
// between can deliver twice, never lose it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::quarantine {

struct ReleaseRequest {
    std::int64_t id = 0;                   // quarantine id
    std::vector<std::string> recipients{}; // of those it was held for; empty = every one not yet released
    std::optional<std::string> to{};       // deliver to this address instead (forward-like; recorded)
    bool allow_sender = false;             // also add the sender to each recipient's own allow list
    std::string actor{};                   // who asked, for the audit log: "root", "digest-link:bob@example.com"...
};

struct ReleaseResult {
    std::vector<std::string> released{};          // recipients now released (or {to})
    std::vector<std::string> already_released{};  // asked for but released before: not sent again
    std::string queue_entry{};                    // spool entry id; "" when nothing was sent
};

struct Places {
    std::filesystem::path quarantine_dir;
    std::filesystem::path spool_dir;
};

// Errors: no such message, a recipient it was not held for, the spool or the database failing.
Result<ReleaseResult> release(store::Database& db, const Places& places, const ReleaseRequest& request);

}  // namespace pmx::quarantine
