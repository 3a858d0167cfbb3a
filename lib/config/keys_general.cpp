// Keys every daemon shares: site identity, the database and the quarantine directory.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_general_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "general.log_level", .type = Type::Enum, .default_value = std::string("info"),
         .choices = {"debug", "info", "notice", "warning", "error"}, .services = {"*"},
         .doc = "Least severe journal messages the daemons write"},
        {.name = "general.node_name", .type = Type::String, .default_value = std::string(""),
         .services = {"*"},
         .doc = "Name of this gateway node in logs and status; empty means the host name"},
        {.name = "general.internal_networks", .type = Type::StringList,
         .default_value = StringList{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                     "fc00::/7"},
         .services = {"milter", "ipblockd"},
         .doc = "Client networks (CIDR) whose mail is internal (policy direction, never IP-blocked)"},
        {.name = "general.internal_domains", .type = Type::StringList, .default_value = StringList{},
         .services = {"milter"},
         .doc = "Mail domains of this site: recipients there are internal (policy direction)"},
        {.name = "general.keyring", .type = Type::String, .default_value = std::string("keyring"),
         .services = {"milter", "queued"},
         .doc = "File of the site's secret keys (signed links, the re-injection stamp); relative to /var/lib/pmx"},
        {.name = "database.path", .type = Type::String, .default_value = std::string("pmx.db"),
         .services = {"milter", "ipblockd"}, .apply = Apply::Restart,
         .doc = "SQLite database (WAL mode) for quarantine index, message log and lists; relative to /var/lib/pmx"},
        {.name = "quarantine.dir", .type = Type::String, .default_value = std::string("quarantine"),
         .services = {"milter"},
         .doc = "Directory holding quarantined messages, one file each; relative to /var/lib/pmx"},
    });
}

}  // namespace pmx::config
