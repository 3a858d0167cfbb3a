// Keys of pmx-avd, the AntiVirus service, and of how the milter uses it.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_av_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "av.socket", .type = Type::String, .default_value = std::string("av.sock"),
         .services = {"avd"}, .apply = Apply::Restart,
         .doc = "AntiVirus scan socket: a path (relative paths are under /run/pmx)"},
        {.name = "av.database_dir", .type = Type::String, .default_value = std::string("/var/lib/clamav"),
         .services = {"avd"},
         .doc = "ClamAV signature directory"},
        {.name = "av.max_scans", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 64, .services = {"avd"},
         .doc = "Most scans running at once; more wait in line"},
    });
}

}  // namespace pmx::config
