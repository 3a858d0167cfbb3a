#include "bus_api.hpp"

#include <fmt/format.h>

#include <cstring>
#include <string>

#include "queue_runner.hpp"
#include "services/registry.hpp"

namespace pmx::queued {

namespace {

int method_flush(sd_bus_message* m, void* userdata, sd_bus_error* error) noexcept {
    try {
        std::uint32_t n = static_cast<QueueRunner*>(userdata)->flush();
        return sd_bus_reply_method_return(m, "u", n);
    } catch (const std::exception& e) {
        return sd_bus_error_set(error, "org.pmx.Error.Internal", e.what());
    }
}

const sd_bus_vtable kQueueVtable[] = {
    SD_BUS_VTABLE_START(0),
    // Access control is the bus policy's (units/org.pmx.conf): root, pmx and pmx-admin.
    SD_BUS_METHOD("Flush", "", "u", method_flush, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END,
};

}  // namespace

Result<bus::SlotPtr> add_queue_interface(sd_bus* bus, QueueRunner& runner) {
    sd_bus_slot* slot = nullptr;
    int r = sd_bus_add_object_vtable(bus, &slot, std::string(kDaemonObjectPath).c_str(), kQueueInterface, kQueueVtable,
                                     &runner);
    if (r < 0) return Error{fmt::format("Failed to add the {} interface: {}", kQueueInterface, std::strerror(-r))};
    return bus::SlotPtr{slot};
}

}  // namespace pmx::queued
