// The one table of pmx services: systemd unit, D-Bus name, and the names the CLI accepts.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace pmx {

inline constexpr std::string_view kTargetUnit = "pmx.target";
// Every daemon exports one object with the common interface below (share/dbus/org.pmx.Daemon1.xml).
inline constexpr std::string_view kDaemonObjectPath = "/org/pmx/Daemon1";
inline constexpr std::string_view kDaemonInterface = "org.pmx.Daemon1";

struct ServiceInfo {
    std::string_view id;           // short name, used in config "reload" lists and the CLI: "milter"
    std::string_view unit;         // "pmx-milter.service"
    std::string_view bus_name;     // "org.pmx.Milter1"
    std::string_view alias;        // a second name the CLI accepts: "ipblock"
    std::string_view description;  // one line, for --help and status
};

std::span<const ServiceInfo> all_services();

// Accepts the id, the alias, "pmx-<id>" and "pmx-<id>.service". nullptr when unknown.
const ServiceInfo* find_service(std::string_view name);

// "milter, ipblockd, queued, avd, httpd": for error messages.
std::string service_names_list();

}  // namespace pmx
