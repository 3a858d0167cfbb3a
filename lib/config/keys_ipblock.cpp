// Keys of pmx-ipblockd, the IP Blocker.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_ipblock_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "ipblock.socket", .type = Type::String, .default_value = std::string("ipblock.sock"),
         .services = {"ipblockd"}, .apply = Apply::Restart,
         .doc = "Postfix policy delegation socket: a path (relative paths are under /run/pmx)"},
        {.name = "ipblock.on_failure", .type = Type::Enum, .default_value = std::string("pass"),
         .choices = {"pass", "tempfail"}, .services = {"ipblockd"},
         .doc = "Answer when a lookup cannot be made: pass (DUNNO) or tempfail (DEFER)"},
        {.name = "ipblock.reject_text", .type = Type::String,
         .default_value = std::string("5.7.1 Client address {ip} is blocked: {reason}"),
         .services = {"ipblockd"},
         .doc = "Text sent with REJECT; {ip} and {reason} are replaced"},
    });
}

}  // namespace pmx::config
