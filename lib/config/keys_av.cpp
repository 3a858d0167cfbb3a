// Keys of pmx-avd, the AntiVirus service, and of how the milter uses it.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_av_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "av.socket", .type = Type::String, .default_value = std::string("av.sock"),
         .services = {"avd", "milter"}, .apply = Apply::Restart,
         .doc = "AntiVirus scan socket: a path (relative paths are under /run/pmx)"},
        {.name = "av.database_dir", .type = Type::String, .default_value = std::string("/var/lib/clamav"),
         .services = {"avd"},
         .doc = "ClamAV signature directory; every reload builds a new engine from it"},
        {.name = "av.max_scans", .type = Type::Integer, .default_value = std::int64_t{4},
         .min = 1, .max = 64, .services = {"avd"}, .apply = Apply::Restart,
         .doc = "Most scans running at once; more wait in line"},
        // The engine's limits: past any of them a message is "unscannable", never a memory blow-up.
        {.name = "av.max_scan_bytes", .type = Type::Integer, .default_value = std::int64_t{100 * MiB},
         .min = 1 * MiB, .max = 4 * GiB - 1, .services = {"avd"},
         .doc = "Most bytes the engine extracts and scans from one message (all files in it together)"},
        {.name = "av.max_file_bytes", .type = Type::Integer, .default_value = std::int64_t{25 * MiB},
         .min = 64 * KiB, .max = 4 * GiB - 1, .services = {"avd"},
         .doc = "Largest single file (attachment, archive member) the engine extracts and scans"},
        {.name = "av.max_recursion", .type = Type::Integer, .default_value = std::int64_t{16},
         .min = 1, .max = 64, .services = {"avd"},
         .doc = "Deepest nesting of archives and messages the engine opens"},
        {.name = "av.max_files", .type = Type::Integer, .default_value = std::int64_t{10000},
         .min = 1, .max = 1000000, .services = {"avd"},
         .doc = "Most files the engine extracts from one message"},
        {.name = "av.max_scan_ms", .type = Type::Integer, .default_value = std::int64_t{30000},
         .min = 100, .max = 600000, .services = {"avd"},
         .doc = "Longest time one scan may take, in milliseconds"},
        // The milter's side.
        {.name = "av.enabled", .type = Type::Boolean, .default_value = false,
         .services = {"milter"},
         .doc = "Whether pmx-milter has each message scanned by pmx-avd"},
        {.name = "av.timeout_ms", .type = Type::Integer, .default_value = std::int64_t{60000},
         .min = 100, .max = 600000, .services = {"milter"},
         .doc = "How long pmx-milter waits for one scan (connect, send, verdict), in milliseconds"},
        {.name = "av.on_failure", .type = Type::Enum, .default_value = std::string("tempfail"),
         .choices = {"tempfail", "accept", "reject"}, .services = {"milter"},
         .doc = "Verdict when pmx-avd is down, too slow or has no signatures (accept passes mail unscanned)"},
        // The policy's remove_infected and notify actions.
        {.name = "av.remove_fallback", .type = Type::Enum, .default_value = std::string("quarantine"),
         .choices = {"quarantine", "reject"}, .services = {"milter"},
         .doc = "What remove_infected does with a recipient's copy when the infected part cannot be cut out"},
        {.name = "av.notify_admin", .type = Type::String, .default_value = std::string(""),
         .services = {"milter"},
         .doc = "Address of the policy's notify:admin notices (empty: none are sent)"},
        {.name = "av.notify_from", .type = Type::String, .default_value = std::string(""),
         .services = {"milter"},
         .doc = "Envelope sender and From of notices (empty: the null sender, From postmaster@ the node name)"},
    });
}

}  // namespace pmx::config
