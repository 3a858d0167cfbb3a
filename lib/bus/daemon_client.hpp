// Calls on a pmx daemon's own object (org.pmx.Daemon1, share/dbus/org.pmx.Daemon1.xml).
#pragma once

#include <systemd/sd-bus.h>

#include "services/registry.hpp"
#include "util/result.hpp"

namespace pmx::bus {

enum class ReloadOutcome { Reloaded, NotRunning };

// Reload(): returns once the daemon runs the new snapshot. NotRunning when nobody owns
// the service's bus name; an Error carries the daemon's reason (e.g. the config error).
Result<ReloadOutcome> reload_daemon(sd_bus* bus, const ServiceInfo& service);

}  // namespace pmx::bus
