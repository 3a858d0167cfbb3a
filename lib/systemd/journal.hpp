// The last lines a unit logged, read with sd-journal and shown like journalctl's short output.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::systemd {

struct JournalQuery {
    std::string unit;                 // "pmx-milter.service"
    std::size_t lines = 10;           // at most this many, the newest ones
    std::uint64_t since_usec = 0;     // CLOCK_REALTIME microseconds; 0: no lower bound
    std::string invocation_id;        // 32 hex digits: only that run of the unit; "": any run
};

// Entries of the local journal whose _SYSTEMD_UNIT, _SYSTEMD_USER_UNIT, UNIT or USER_UNIT is
// the unit (the unit's own output and the manager's messages about it, system or user manager),
// oldest first, formatted by format_short_line. No journal files at all is not an error.
Result<std::vector<std::string>> unit_journal(const JournalQuery& q);

// "Nov 25 07:01:02 pmx-milter[123]: message", local time. A message of several lines
// continues indented under its first; a message with control bytes reads "[N bytes blob data]".
// An empty pid leaves out the brackets.
std::string format_short_line(std::uint64_t realtime_usec, std::string_view identifier, std::string_view pid,
                              std::string_view message);

}  // namespace pmx::systemd
