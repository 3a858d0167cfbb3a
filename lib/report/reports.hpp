// The reports: each one is rows under named columns, read from the consolidated tables
// (consolidate.hpp), so the CLI and the web UI print the same numbers as a table, CSV or JSON
// (report_format.hpp) from one definition.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::report {

struct Column {
    std::string name;
    bool numeric = false;  // JSON: a number, not a string
};

struct Report {
    std::string name;
    std::vector<Column> columns;
    std::vector<std::vector<std::string>> rows;  // one cell per column, numbers as text
};

enum class Kind {
    Series,  // one row per period (--by hour|day)
    Top,     // one row per key, most first (--limit)
};

struct ReportInfo {
    std::string_view name;
    Kind kind;
    std::string_view description;
};

std::span<const ReportInfo> report_list();
const ReportInfo* find_report(std::string_view name);

struct Query {
    std::string name;
    std::int64_t from_us = 0;  // periods starting at or after from (rounded down to the period)
    std::int64_t to_us = 0;    // ... and before to
    std::string by = "hour";   // "hour" | "day": the rows of a series, the counts a top-N adds up
    int limit = 10;            // top-N: at most this many rows
    std::optional<std::string> node{};  // only this gateway's numbers (default: all added up)
};

// "2026-11-25T13:00:00Z"
std::string period_label(std::int64_t start_us);

Result<Report> run_report(store::Database& db, const Query& query);

}  // namespace pmx::report
