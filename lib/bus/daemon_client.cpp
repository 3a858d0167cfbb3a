#include "bus/daemon_client.hpp"

#include <fmt/format.h>

#include <string>

#include "bus/bus.hpp"

namespace pmx::bus {

Result<ReloadOutcome> reload_daemon(sd_bus* bus, const ServiceInfo& service) {
    BusError error;
    sd_bus_message* reply = nullptr;
    std::string name{service.bus_name};
    int r = sd_bus_call_method(bus, name.c_str(), std::string(kDaemonObjectPath).c_str(),
                               std::string(kDaemonInterface).c_str(), "Reload", error.get(), &reply, "");
    MessagePtr owned{reply};
    if (r >= 0) return ReloadOutcome::Reloaded;
    if (error.has_name(SD_BUS_ERROR_SERVICE_UNKNOWN) || error.has_name(SD_BUS_ERROR_NAME_HAS_NO_OWNER))
        return ReloadOutcome::NotRunning;
    return Error{fmt::format("Failed to reload {}: {}", service.unit, error.describe(r))};
}

}  // namespace pmx::bus
