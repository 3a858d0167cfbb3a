// Keys of pmx-milter: its socket, failure verdict and the caps on what a sender controls.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_milter_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "milter.socket", .type = Type::String, .default_value = std::string("milter.sock"),
         .services = {"milter"}, .apply = Apply::Restart,
         .doc = "Milter socket: a path (relative paths are under /run/pmx) or inet:PORT@127.0.0.1"},
        {.name = "milter.on_internal_error", .type = Type::Enum, .default_value = std::string("tempfail"),
         .choices = {"tempfail", "accept", "reject"}, .services = {"milter"},
         .doc = "Verdict when the milter cannot judge a message (tempfail makes the sender retry)"},
        {.name = "milter.max_recipients", .type = Type::Integer, .default_value = std::int64_t{1000},
         .min = 1, .max = 100000, .services = {"milter"},
         .doc = "Most envelope recipients in one message; a message with more is tempfailed whole"},
        {.name = "milter.max_headers", .type = Type::Integer, .default_value = std::int64_t{1000},
         .min = 16, .max = 100000, .services = {"milter"},
         .doc = "Most header fields kept per message"},
        {.name = "milter.max_header_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 4 * KiB, .max = 64 * MiB, .services = {"milter"},
         .doc = "Most bytes of headers kept per message"},
        {.name = "milter.max_body_bytes", .type = Type::Integer, .default_value = std::int64_t{64 * MiB},
         .min = 64 * KiB, .max = 4 * GiB, .services = {"milter"},
         .doc = "Most body bytes scanned per message; large bodies spill to a temporary file"},
        {.name = "milter.ipblock_at_connect", .type = Type::Boolean, .default_value = false,
         .services = {"milter"},
         .doc = "Ask pmx-ipblockd in the connect step and refuse blocked clients there (for sendmail; Postfix asks it itself)"},
        {.name = "milter.spill_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 0, .max = 1 * GiB, .services = {"milter"},
         .doc = "Message bytes kept in memory; beyond this a message goes to an unlinked temporary file"},
    });
}

}  // namespace pmx::config
