// When a job's last run ended, from the manager's own journal messages. Needed because a
// oneshot service that finished cleanly is unloaded (garbage-collected) once nothing refers to
// it (its timer stopped with the Scheduler), and with it the manager forgets its timestamps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace pmx::systemd {

struct LastRun {
    std::uint64_t usec = 0;  // CLOCK_REALTIME of the manager's "Finished"/"Failed" message
    std::string job_result;  // JOB_RESULT: "done", "failed", "timeout", ...
};

// The newest "unit started" (start job done) or "unit failed" message of the unit, system or
// user manager; nullopt when the journal has none.
Result<std::optional<LastRun>> last_run_from_journal(const std::string& unit);

}  // namespace pmx::systemd
