#include "bus/bus.hpp"

#include <fmt/format.h>

#include <cstring>

namespace pmx::bus {

std::string BusError::describe(int r) const {
    if (sd_bus_error_is_set(&e_) && e_.message) return e_.message;
    return std::strerror(r < 0 ? -r : r);
}

Result<BusPtr> open(Scope scope) {
    sd_bus* raw = nullptr;
    int r = scope == Scope::User ? sd_bus_open_user(&raw) : sd_bus_open_system(&raw);
    if (r < 0)
        return Error{fmt::format("Failed to connect to the {} bus: {}", scope_name(scope),
                                 std::strerror(-r))};
    return BusPtr{raw};
}

const char* scope_name(Scope scope) { return scope == Scope::User ? "user" : "system"; }

}  // namespace pmx::bus
