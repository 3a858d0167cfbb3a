// Report consolidation: the message log (and the quarantine index and the IP Blocker's block
// log) added up into hourly and daily tables (schema v6: report_period, report_count), so a
// report over a month reads a few hundred rows instead of millions, and survives log expiry.
//
// Idempotent: a period consolidated again is replaced whole. Incremental: report_state keeps,
// per granularity, the start of the first period not yet final; a run redoes only from there
// up to the period holding `now` (still open, so redone next time too). Periods are UTC.
// Each day of hours is one transaction, so the milter's log writes never wait long.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::report {

inline constexpr std::int64_t hour_us = 3600LL * 1000000;
inline constexpr std::int64_t day_us = 24 * hour_us;

// Floor to the period's start (UTC; also right for times before 1970).
std::int64_t period_start(std::int64_t time_us, std::int64_t length_us);

struct ConsolidateOptions {
    // A message with at least this spam score (or quarantined for the reason "spam") counts as spam.
    double spam_score = 5.0;
    // A period becomes final only this long after it ends: late log rows still land in it.
    std::int64_t grace_us = 5LL * 60 * 1000000;
    // Redo everything from this time (e.g. after importing old log rows), not just what is open.
    std::optional<std::int64_t> rebuild_from_us{};
    // Called after each transaction: hours done so far and hours to do in this run.
    std::function<void(std::int64_t done, std::int64_t total)> progress{};
};

struct ConsolidateStats {
    std::int64_t log_rows = 0;      // message-log rows read
    std::int64_t hours = 0;         // hourly periods redone (with or without mail)
    std::int64_t days = 0;          // daily periods redone
    std::int64_t period_rows = 0;   // report_period rows written (hours and days)
    std::int64_t count_rows = 0;    // report_count rows written (hours and days)
    std::int64_t from_us = 0;       // the first hour redone (0 when nothing to do)
    std::int64_t to_us = 0;         // end of the last hour redone
    std::int64_t final_until_us = 0;  // hours before this are final now
};

Result<ConsolidateStats> consolidate(store::Database& db, std::int64_t now_us, const ConsolidateOptions& options = {});

}  // namespace pmx::report
