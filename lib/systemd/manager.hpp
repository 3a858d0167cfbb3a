// A client of the systemd manager (org.freedesktop.systemd1) over sd-bus: unit jobs
// that wait for their result, unit properties, and enabling/disabling unit files.
// The system manager is on the system bus; the user manager on the user bus (as systemctl --user).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bus/bus.hpp"
#include "systemd/units.hpp"
#include "util/result.hpp"

namespace pmx::systemd {

inline constexpr std::chrono::microseconds kDefaultJobTimeout = std::chrono::seconds(90);

enum class UnitAction { Start, Stop, Restart, Reload };

const char* action_method(UnitAction a);  // "StartUnit"
const char* action_verb(UnitAction a);    // "start"
const char* action_done(UnitAction a);    // "Started"

// What became of one queued job.
struct JobOutcome {
    std::string unit;
    std::string result;  // JobRemoved's result: "done", "failed", "timeout", "dependency", "canceled", "skipped", ...
    std::string error;   // set when the job could not even be queued: "Failed to start x: Unit x not found."
    bool ok() const;  // queued and finished "done" (or "skipped": nothing to do, as systemctl counts it)
    // "Failed to start x: Unit x not found.", "Job for x failed.", "A dependency job for x failed."; "" when ok().
    std::string describe(UnitAction a) const;
};

struct EnableResult {
    bool carries_install_info = true;  // false: the files have no [Install] section to act on
    std::vector<UnitFileChange> changes;
};

class Manager {
public:
    explicit Manager(bus::BusPtr bus) : bus_(std::move(bus)) {}
    // Opens the scope's bus; the user manager is reached on the user bus.
    static Result<Manager> connect(bus::Scope scope);

    sd_bus* bus() const { return bus_.get(); }

    // Queues action (mode "replace") on every unit at once and waits until each job is
    // removed, then until no job remains queued for any unit in settle_units (stopping
    // pmx.target finishes before the services PartOf it have stopped).
    // A unit whose job cannot be queued gets an outcome with error set; the other jobs still run.
    // Error only when the bus fails or the whole wait exceeds timeout.
    Result<std::vector<JobOutcome>> run_jobs(UnitAction action, std::span<const std::string> units,
                                             std::span<const std::string> settle_units = {},
                                             std::chrono::microseconds timeout = kDefaultJobTimeout);

    // One unit: the job's result string, or an Error (also when it could not be queued).
    Result<std::string> run_job(UnitAction action, std::string_view unit,
                                std::chrono::microseconds timeout = kDefaultJobTimeout);

    // LoadUnit, then Properties.GetAll of .Unit (and .Service for services).
    // A unit without a file loads fine with load_state "not-found".
    Result<UnitProperties> unit_properties(std::string_view unit);

    // Units that currently have a job queued or running (ListJobs).
    Result<std::vector<std::string>> units_with_jobs();

    // EnableUnitFiles(files, runtime=false, force=true) then Reload.
    Result<EnableResult> enable_unit_files(std::span<const std::string> files);
    // DisableUnitFiles(files, runtime=false) then Reload.
    Result<EnableResult> disable_unit_files(std::span<const std::string> files);

    // daemon-reload; returns once the manager has reloaded.
    Result<void> reload();

private:
    Result<void> subscribe();

    bus::BusPtr bus_;
    bool subscribed_ = false;
};

}  // namespace pmx::systemd
