#include "daemon_reload.hpp"

#include <fmt/format.h>

#include "bus/bus.hpp"
#include "bus/daemon_client.hpp"
#include "services/registry.hpp"

namespace pmx::cli {

void reload_daemon_directly(Context& ctx, std::string_view service_id) {
    const ServiceInfo* service = find_service(service_id);
    if (!service) throw CommandError(fmt::format("unknown service {}", service_id));
    auto bus = bus::open(ctx.scope());
    if (!bus) throw CommandError(bus.error().message);
    auto r = bus::reload_daemon(bus->get(), *service);
    if (!r) throw CommandError(fmt::format("{}: {}", service->unit, r.error().message));
    if (!ctx.quiet)
        fmt::print("{}: {}\n", service->unit,
                   *r == bus::ReloadOutcome::Reloaded ? "reloaded" : "not running (nothing to reload)");
}

}  // namespace pmx::cli
