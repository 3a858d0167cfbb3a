// What the manager knows about a scheduled job: its timer (next and last elapse) and its
// oneshot service (last run, result, invocation), read over D-Bus; and unit lists by pattern.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "systemd/manager.hpp"
#include "util/result.hpp"

namespace pmx::systemd {

struct TimerState {
    std::string unit;
    std::string load_state;    // "loaded", "not-found", ...
    std::string active_state;  // "active" while it waits for its next elapse
    std::uint64_t next_elapse_usec = 0;   // NextElapseUSecRealtime; 0: none
    std::uint64_t last_trigger_usec = 0;  // LastTriggerUSec (realtime); 0: never
};

struct JobServiceState {
    std::string unit;
    std::string load_state;
    std::string active_state;  // "activating" while the job runs, "failed" after a failed run
    std::string sub_state;
    std::string result;        // "success", "exit-code", "timeout", "signal", ...
    std::uint64_t exec_main_start_usec = 0;  // realtime; 0: never ran
    std::uint64_t exec_main_exit_usec = 0;
    std::int32_t exec_main_code = 0;    // CLD_EXITED (1), CLD_KILLED (2), CLD_DUMPED (3)
    std::int32_t exec_main_status = 0;
    std::string invocation_id;  // 32 hex digits of the last run; "" when none
};

// Any unit's load and active state; the Timer properties too when it is a .timer.
Result<TimerState> timer_state(Manager& m, std::string_view unit);
Result<JobServiceState> job_service_state(Manager& m, std::string_view unit);

// "success", "failed (exit-code, status=1)", "running", "never run", "not generated".
std::string job_result_text(const JobServiceState& s);
// The job's last run failed (the service is in the failed state).
inline bool job_failed(const JobServiceState& s) { return s.active_state == "failed"; }

struct ListedUnit {
    std::string name;
    std::string load_state;
    std::string active_state;
    std::string sub_state;
};

// ListUnitsByPatterns: loaded units whose name matches one of the globs (states empty: any).
Result<std::vector<ListedUnit>> list_units(Manager& m, std::span<const std::string> states,
                                           std::span<const std::string> patterns);

}  // namespace pmx::systemd
