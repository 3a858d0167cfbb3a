// Reload() on one pmx daemon, called directly over D-Bus rather than through systemd: what the
// scheduled jobs run (as user pmx, which the D-Bus policy lets call Reload() but which may not
// ask systemd to reload units). A daemon that is not running has nothing to reload: not an error.
#pragma once

#include <string_view>

#include "context.hpp"

namespace pmx::cli {

// Prints "pmx-avd.service: reloaded" (or "not running"); a daemon's refusal is a CommandError
// carrying its reason.
void reload_daemon_directly(Context& ctx, std::string_view service_id);

}  // namespace pmx::cli
