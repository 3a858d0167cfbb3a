#include "services/registry.hpp"

#include <array>

namespace pmx {

namespace {
constexpr std::array kServices = {
    ServiceInfo{"milter", "pmx-milter.service", "org.pmx.Milter1", "policy",
                "Milter policy engine (talks to Postfix/sendmail)"},
    ServiceInfo{"ipblockd", "pmx-ipblockd.service", "org.pmx.IPBlocker1", "ipblock",
                "IP Blocker (Postfix policy delegation)"},
    ServiceInfo{"queued", "pmx-queued.service", "org.pmx.QueueRunner1", "queue",
                "Queue Runner (durable outbound queue)"},
    ServiceInfo{"avd", "pmx-avd.service", "org.pmx.AntiVirus1", "av",
                "AntiVirus service (ClamAV engine)"},
    ServiceInfo{"httpd", "pmx-httpd.service", "org.pmx.Httpd1", "web",
                "Web interfaces: Manager, Groups, end users, JSON RPC (HTTPS)"},
};
}  // namespace

std::span<const ServiceInfo> all_services() { return kServices; }

const ServiceInfo* find_service(std::string_view name) {
    if (name.ends_with(".service")) name.remove_suffix(8);
    if (name.starts_with("pmx-")) name.remove_prefix(4);
    for (const auto& s : kServices)
        if (name == s.id || name == s.alias) return &s;
    return nullptr;
}

std::string service_names_list() {
    std::string out;
    for (const auto& s : kServices) {
        if (!out.empty()) out += ", ";
        out += s.id;
    }
    return out;
}

}  // namespace pmx
