// Keys of pmx-queued, the Queue Runner.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_queue_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "queue.socket", .type = Type::String, .default_value = std::string("queue.sock"),
         .services = {"queued"}, .apply = Apply::Restart,
         .doc = "Queue Runner submission socket: a path (relative paths are under /run/pmx)"},
        {.name = "queue.relay", .type = Type::String, .default_value = std::string("127.0.0.1:25"),
         .services = {"queued"},
         .doc = "SMTP relay (HOST:PORT) that receives released mail, digests and notifications"},
        {.name = "queue.max_parallel", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 256, .services = {"queued"},
         .doc = "Most deliveries in progress at once"},
    });
}

}  // namespace pmx::config
