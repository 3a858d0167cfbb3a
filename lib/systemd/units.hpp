// What pmx knows and decides about systemd units without talking to a bus:
// the properties it reads, how it shows them, and how CLI names become units.
// Everything here is pure, so tests/unit can check it without a manager.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "services/registry.hpp"
#include "util/result.hpp"

namespace pmx::systemd {

// The properties of org.freedesktop.systemd1.Unit (and .Service for services) pmx uses.
struct UnitProperties {
    std::string unit;             // "pmx-milter.service"
    std::string load_state;       // "loaded", "not-found", "masked", "error", ...
    std::string load_error;       // LoadError's message, e.g. "Unit pmx-milter.service not found."
    std::string active_state;     // "active", "inactive", "failed", "activating", ...
    std::string sub_state;        // "running", "dead", "exited", "auto-restart", ...
    std::string unit_file_state;  // "enabled", "disabled", "static", "" when there is no file
    std::vector<std::string> wants;  // Wants=, including .wants/ symlinks (used for pmx.target)
    // CLOCK_REALTIME microseconds; 0 when it never happened.
    std::uint64_t active_enter_usec = 0;
    std::uint64_t active_exit_usec = 0;
    std::uint64_t inactive_enter_usec = 0;
    std::uint64_t inactive_exit_usec = 0;
    // Service only (empty/0 for other unit types).
    std::string result;                   // "success", "exit-code", "signal", "timeout", ...
    std::int32_t exec_main_code = 0;      // CLD_EXITED (1), CLD_KILLED (2), CLD_DUMPED (3); 0: never ran
    std::int32_t exec_main_status = 0;    // exit status, or the signal number
    std::uint32_t main_pid = 0;           // 0: none
    std::optional<std::uint64_t> memory_bytes;  // MemoryCurrent; nullopt when systemd does not know
    std::string status_text;              // what the service last sent as STATUS=
};

// "active (running)", "inactive (dead)", "failed", "activating (auto-restart)", "not-found".
// The sub-state is left out when it only repeats the active state.
std::string active_column(const UnitProperties& p);

// True for the states systemctl is-active accepts: "active" and "reloading".
bool is_active(std::string_view active_state);

// Which timestamp "since" means for the current state, as systemctl status picks it:
// active/reloading: ActiveEnter; inactive/failed: InactiveEnter; activating: InactiveExit;
// deactivating: ActiveExit. 0 when unknown.
std::uint64_t since_usec(const UnitProperties& p);

// "status=1", "signal=KILL", "signal=SEGV (core dumped)", or "" when the main process never ran.
std::string exec_status(const UnitProperties& p);

// The one line explaining why a unit is not where it should be:
// "failed (Result: exit-code, status=1)", "inactive (dead)", "not-found (Unit x not found.)".
std::string failure_summary(const UnitProperties& p);

// Exit code as systemctl is-active/status use it, over all listed units:
// 4 when any unit does not exist (LoadState not-found), else 3 when any is not active, else 0.
inline constexpr int kExitNotActive = 3;
inline constexpr int kExitNoSuchUnit = 4;
int status_exit_code(std::span<const UnitProperties> units);

// "connections=3 reloads=1" (in the daemon's order); "" for no counters.
std::string format_counters(std::span<const std::pair<std::string, std::uint64_t>> counters);

// One entry of the changes list EnableUnitFiles/DisableUnitFiles return: a(sss).
struct UnitFileChange {
    std::string type;         // "symlink", "unlink", or another systemd change type
    std::string path;         // the symlink (or file) that changed
    std::string destination;  // what a new symlink points to
};

// "Created symlink X → Y.", "Removed X.", as systemctl prints them.
std::string format_unit_file_change(const UnitFileChange& c);

// The CLI's service arguments resolved against the service registry.
struct Selection {
    bool whole_gateway = false;                // no argument: pmx.target and every service
    std::vector<const ServiceInfo*> services;  // in argument order, without duplicates;
                                               // every service when whole_gateway
};

// Accepts every name find_service accepts. Error: "Unknown service \"x\"; valid names are: ...".
Result<Selection> select_services(std::span<const std::string> args);

// The units a job for this selection acts on: {"pmx.target"} for the whole gateway,
// else each selected service's unit.
std::vector<std::string> job_units(const Selection& s);

// Every unit of the selection including pmx.target for the whole gateway (enable/disable).
std::vector<std::string> unit_files(const Selection& s);

// After starting pmx.target: the services that should now run but do not. A service
// counts as expected when pmx.target wants it or its unit file state is enabled.
std::vector<const UnitProperties*> missing_after_target_start(
    std::span<const UnitProperties> services, const UnitProperties& target);

}  // namespace pmx::systemd
