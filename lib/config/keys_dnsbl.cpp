// Keys of the anti-spam engine's dnsbl part.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_dnsbl_keys(std::vector<KeySpec>& keys) {
    (void)keys;  // none yet
}

}  // namespace pmx::config
