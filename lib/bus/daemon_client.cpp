#include "bus/daemon_client.hpp"

#include <fmt/format.h>

#include <cstring>
#include <string>

#include "bus/bus.hpp"
#include "bus/properties.hpp"

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

Result<DaemonStatus> read_daemon_status(sd_bus* bus, std::string_view bus_name, std::chrono::microseconds timeout) {
    const std::string name(bus_name);
    const std::string path(kDaemonObjectPath);
    const std::string iface(kDaemonInterface);
    auto fail = [&](const std::string& why) { return Error{fmt::format("Failed to query {}: {}", name, why)}; };

    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus, &raw, name.c_str(), path.c_str(), "org.freedesktop.DBus.Properties",
                                           "GetAll");
    MessagePtr call{raw};
    if (r < 0) return fail(std::strerror(-r));
    if ((r = sd_bus_message_append(call.get(), "s", iface.c_str())) < 0) return fail(std::strerror(-r));
    // Never start a daemon just to ask it how it is.
    if ((r = sd_bus_message_set_auto_start(call.get(), 0)) < 0) return fail(std::strerror(-r));

    BusError err;
    raw = nullptr;
    r = sd_bus_call(bus, call.get(), static_cast<std::uint64_t>(timeout.count()), err.get(), &raw);
    MessagePtr reply{raw};
    if (r < 0) return fail(err.describe(r));

    DaemonStatus st;
    using detail::read_variant;
    r = detail::for_each_property(reply.get(), [&](std::string_view n) -> int {
        sd_bus_message* m = reply.get();
        if (n == "Version") return read_variant(m, st.version);
        if (n == "ConfigGeneration") return read_variant(m, st.config_generation);
        if (n == "ConfigLoadedUSec") return read_variant(m, st.config_loaded_usec);
        if (n == "StatusText") return read_variant(m, st.status_text);
        if (n == "Listen") return read_variant(m, st.listen);
        if (n == "Counters") return read_variant(m, st.counters);
        return 0;
    });
    if (r < 0) return fail(fmt::format("unexpected reply: {}", std::strerror(-r)));
    return st;
}

}  // namespace pmx::bus
