// Calls on a pmx daemon's own object (org.pmx.Daemon1, share/dbus/org.pmx.Daemon1.xml).
#pragma once

#include <systemd/sd-bus.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "services/registry.hpp"
#include "util/result.hpp"

namespace pmx::bus {

enum class ReloadOutcome { Reloaded, NotRunning };

// Reload(): returns once the daemon runs the new snapshot. NotRunning when nobody owns
// the service's bus name; an Error carries the daemon's reason (e.g. the config error).
Result<ReloadOutcome> reload_daemon(sd_bus* bus, const ServiceInfo& service);

struct DaemonStatus {
    std::string version;
    std::uint64_t config_generation = 0;
    std::uint64_t config_loaded_usec = 0;  // CLOCK_REALTIME microseconds
    std::string status_text;
    std::string listen;
    std::vector<std::pair<std::string, std::uint64_t>> counters;  // in the daemon's order
};

// A daemon that is not on the bus or does not answer within timeout is an Error
// ("Failed to query org.pmx.Milter1: ..."); status shows it as "-".
Result<DaemonStatus> read_daemon_status(sd_bus* bus, std::string_view bus_name,
                                        std::chrono::microseconds timeout = std::chrono::seconds(2));

}  // namespace pmx::bus
