// Keys of pmx-queued, the Queue Runner.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_queue_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "queue.spool_dir", .type = Type::String, .default_value = std::string("/var/spool/pmx"),
         .services = {"queued"}, .apply = Apply::Restart,
         .doc = "Spool directory of the outbound queue; relative paths are under /var/lib/pmx "
                "(under a user manager the default is spool in the state directory)"},
        {.name = "queue.relay", .type = Type::String, .default_value = std::string("127.0.0.1:25"),
         .services = {"queued"},
         .doc = "SMTP relay (HOST:PORT, [IPv6]:PORT or unix:PATH) that receives released mail, digests and notifications"},
        {.name = "queue.helo_name", .type = Type::String, .default_value = std::string(""),
         .services = {"queued"},
         .doc = "Name pmx-queued gives in EHLO and in the Message-ID it adds; empty means the host name"},
        {.name = "queue.max_parallel", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 256, .services = {"queued"},
         .doc = "Most deliveries in progress at once"},
        {.name = "queue.retry_min_seconds", .type = Type::Integer, .default_value = std::int64_t{300},
         .min = 1, .max = 86400, .services = {"queued"},
         .doc = "Wait after the first temporary failure; each further failure doubles it"},
        {.name = "queue.retry_max_seconds", .type = Type::Integer, .default_value = std::int64_t{4 * 3600},
         .min = 1, .max = 7 * 86400, .services = {"queued"},
         .doc = "Longest wait between two attempts"},
        {.name = "queue.max_attempts", .type = Type::Integer, .default_value = std::int64_t{30},
         .min = 1, .max = 10000, .services = {"queued"},
         .doc = "Attempts after which a message still failing temporarily moves to failed"},
        {.name = "queue.max_age_seconds", .type = Type::Integer, .default_value = std::int64_t{5 * 86400},
         .min = 1, .max = 365 * 86400, .services = {"queued"},
         .doc = "Age (since submission or the last pmx queue retry) after which a temporary failure moves it to failed"},
        {.name = "queue.sent_keep_seconds", .type = Type::Integer, .default_value = std::int64_t{86400},
         .min = 0, .max = 365 * 86400, .services = {"queued"},
         .doc = "How long delivered messages stay in the sent folder (0: removed at once)"},
        {.name = "queue.scan_interval_seconds", .type = Type::Integer, .default_value = std::int64_t{60},
         .min = 1, .max = 3600, .services = {"queued"},
         .doc = "Period of the full spool scan (new entries are also seen at once through inotify)"},
        {.name = "queue.connect_timeout_ms", .type = Type::Integer, .default_value = std::int64_t{30000},
         .min = 100, .max = 600000, .services = {"queued"},
         .doc = "Time allowed to connect to the relay and read its greeting"},
        {.name = "queue.command_timeout_ms", .type = Type::Integer, .default_value = std::int64_t{300000},
         .min = 100, .max = 3600000, .services = {"queued"},
         .doc = "Time allowed for each reply of the relay"},
        {.name = "queue.stamp_validity_seconds", .type = Type::Integer, .default_value = std::int64_t{3600},
         .min = 10, .max = 7 * 86400, .services = {"queued"},
         .doc = "Validity of the X-PMX-Reinjected stamp on delivered mail (checked by pmx-milter when the relay receives it)"},
    });
}

}  // namespace pmx::config
