// Removing quarantined messages for good, recorded in the audit log: one message (delete),
// or every one older than an age (expire), which also sweeps stray files (store/quarantine_sweep.hpp).
// Index rows and audit rows go in one transaction, files after it is committed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "store/database.hpp"
#include "store/quarantine_sweep.hpp"
#include "util/result.hpp"

namespace pmx::quarantine {

// false: no message with that id.
Result<bool> remove(store::Database& db, const std::filesystem::path& quarantine_dir, std::int64_t id,
                    const std::string& actor);

struct ExpireOptions {
    std::int64_t before_us = 0;  // messages quarantined before this time, stray files last written before it
    bool dry_run = false;        // count only
    std::string actor{};
    std::string age{};           // as the user wrote it ("30d"), for the audit log
    std::int64_t stray_grace_us = store::SweepOptions{}.grace_us;
};

struct ExpireResult {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;  // of those messages
    store::SweepResult strays{};
};

Result<ExpireResult> expire(store::Database& db, const std::filesystem::path& quarantine_dir, const ExpireOptions& options);

}  // namespace pmx::quarantine
