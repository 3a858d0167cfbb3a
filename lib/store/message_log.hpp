// Message log: one row per message the milter judged, with the verdict for each recipient.
//
// Per-recipient verdicts live in their own table (message_log_recipient), not in a JSON
// column: `pmx log --recipient X --verdict reject` and the later per-verdict statistics
// are plain indexed SQL on it, identical in SQLite and PostgreSQL (JSON functions are not),
// and a row holds exactly what the policy's RecipientDecision says. The cost is one extra
// row per recipient on insert, in the same transaction (measured: see tests/unit/test_store_bench.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/decision.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

// The verdict as stored and typed: policy::outcome_name() read back ("accept", "quarantine",
// "reject", "tempfail", "discard").
std::optional<policy::Outcome> parse_verdict(std::string_view text);

struct LogRecipient {
    std::string address{};
    policy::Outcome verdict = policy::Outcome::Accept;
    std::string rule{};    // the policy rule that decided, "" = the default
    std::string detail{};  // "550 5.7.1 text" for reject/tempfail, the reason for quarantine
};

struct LogEntry {
    std::int64_t id = 0;       // set by append_log
    std::int64_t time_us = 0;  // 0 on append: now
    std::string queue_id{};
    std::string client_ip{};
    std::string sender{};        // "" = the null sender
    std::uint64_t size = 0;
    std::optional<double> score{};
    std::vector<std::string> rules{};// rules hit; stored comma-separated (a "," inside a name becomes "_")
    std::int64_t elapsed_us = 0;
    std::string node{};
    std::optional<std::int64_t> quarantine_id{};  // when a copy was quarantined
    std::vector<LogRecipient> recipients{};       // RCPT TO order
};

// What the milter logs for one evaluated message (time, size and elapsed time are the caller's).
LogEntry make_log_entry(const policy::Envelope& envelope, const policy::Decision& decision,
                        const policy::ScanFacts& facts);

// One message: the row and its recipients in one transaction (or inside the caller's,
// which is how to batch). Returns the id.
Result<std::int64_t> append_log(Database& db, const LogEntry& entry);

struct LogFilter {
    std::string sender{};     // substring, case-insensitive
    std::string recipient{};  // substring, case-insensitive: any recipient
    std::optional<policy::Outcome> verdict{};  // any recipient with this verdict
    std::string client_ip{};  // exact (compared in canonical form)
    std::optional<std::int64_t> since_us{};    // time_us >= since
    std::optional<std::int64_t> until_us{};    // time_us <  until
    int limit = 50;
};

// Newest first.
Result<std::vector<LogEntry>> recent_log(Database& db, const LogFilter& filter);

}  // namespace pmx::store
