// Output helpers shared by commands: aligned tables for people, JSON for scripts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"

namespace pmx::cli {

// A plain text table: header row, then rows; columns padded to the widest cell.
// When stdout is not a terminal the header is still printed (like systemctl --no-pager),
// but no colour or truncation is ever applied.
class Table {
public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    std::string render() const;

private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

// json_quote: lib/util/json.hpp.

// What a sender wrote (subjects, addresses, comments) may hold control characters meant for
// the terminal: for people, they are shown as "?".
std::string printable(std::string_view s);

// "3.2M", "512K": like systemctl's memory column.
std::string format_bytes(unsigned long long bytes);

// "2026-11-25 07:01:02 UTC" from CLOCK_REALTIME microseconds; "-" for 0.
std::string format_timestamp_usec(unsigned long long usec);

}  // namespace pmx::cli
