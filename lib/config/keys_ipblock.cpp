// Keys of pmx-ipblockd, the IP Blocker.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_ipblock_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "ipblock.socket", .type = Type::String, .default_value = std::string("ipblock.sock"),
         .services = {"ipblockd"}, .apply = Apply::Restart,
         .doc = "Postfix policy delegation socket: a path (relative paths are under /run/pmx)"},
        {.name = "ipblock.tcp_listen", .type = Type::String, .default_value = std::string(""),
         .services = {"ipblockd"}, .apply = Apply::Restart,
         .doc = "Also serve the policy protocol on TCP, loopback only: 127.0.0.1:PORT or [::1]:PORT; empty: off"},
        {.name = "ipblock.on_failure", .type = Type::Enum, .default_value = std::string("pass"),
         .choices = {"pass", "tempfail"}, .services = {"ipblockd"},
         .doc = "Answer when a lookup cannot be made: pass (DUNNO) or tempfail (DEFER)"},
        {.name = "ipblock.reject_text", .type = Type::String,
         .default_value = std::string("5.7.1 Client address {ip} is blocked: {reason}"),
         .services = {"ipblockd"},
         .doc = "Text sent with REJECT; {ip}, {reason} and {url} (ipblock.lookup_url) are replaced"},
        {.name = "ipblock.lookup_url", .type = Type::String, .default_value = std::string(""),
         .services = {"ipblockd"},
         .doc = "Where a blocked sender can learn more, for {url} in ipblock.reject_text; {ip} is replaced"},
        {.name = "ipblock.block_files", .type = Type::StringList, .default_value = StringList{},
         .services = {"ipblockd"},
         .doc = "Block list files: one IPv4/IPv6 address or CIDR network per line, # comments; relative to /etc/pmx"},
        {.name = "ipblock.exception_files", .type = Type::StringList, .default_value = StringList{},
         .services = {"ipblockd"},
         .doc = "Exception list files (same format): these clients are never blocked; relative to /etc/pmx"},
        {.name = "ipblock.dynamic", .type = Type::Boolean, .default_value = true,
         .services = {"ipblockd"},
         .doc = "Block client IPs that send too much spam, as seen in the message log"},
        {.name = "ipblock.dynamic_threshold", .type = Type::Integer, .default_value = std::int64_t{10},
         .min = 1, .max = 1000000, .services = {"ipblockd"},
         .doc = "Spam or virus messages within ipblock.dynamic_window_seconds that get an IP blocked"},
        {.name = "ipblock.dynamic_window_seconds", .type = Type::Integer, .default_value = std::int64_t{600},
         .min = 10, .max = 7 * 86400, .services = {"ipblockd"},
         .doc = "The window in which dynamic blocking counts an IP's messages"},
        {.name = "ipblock.dynamic_ratio_percent", .type = Type::Integer, .default_value = std::int64_t{50},
         .min = 0, .max = 99, .services = {"ipblockd"},
         .doc = "An IP is blocked only when more than this share of its mail in the window was spam"},
        {.name = "ipblock.dynamic_ttl_seconds", .type = Type::Integer, .default_value = std::int64_t{3600},
         .min = 1, .max = 365 * 86400, .services = {"ipblockd"},
         .doc = "How long a first dynamic block lasts; each repeat offense doubles it"},
        {.name = "ipblock.dynamic_max_ttl_seconds", .type = Type::Integer, .default_value = std::int64_t{7 * 86400},
         .min = 1, .max = 365 * 86400, .services = {"ipblockd"},
         .doc = "The longest a dynamic block lasts, however often the IP offended"},
        {.name = "ipblock.dynamic_memory_seconds", .type = Type::Integer, .default_value = std::int64_t{7 * 86400},
         .min = 0, .max = 365 * 86400, .services = {"ipblockd"},
         .doc = "How long after a dynamic block expired a new one still counts as a repeat offense"},
        {.name = "ipblock.dynamic_rules", .type = Type::StringList, .default_value = StringList{},
         .services = {"ipblockd"},
         .doc = "Policy rules whose quarantine/reject/discard verdicts count as spam; empty: any rule"},
        {.name = "ipblock.dynamic_min_score", .type = Type::Integer, .default_value = std::int64_t{0},
         .min = 0, .max = 1000, .services = {"ipblockd"},
         .doc = "A message with at least this spam score counts as spam whatever its verdict; 0: off"},
        {.name = "ipblock.dynamic_max_tracked", .type = Type::Integer, .default_value = std::int64_t{100000},
         .min = 100, .max = 10000000, .services = {"ipblockd"},
         .doc = "Most client IPs dynamic blocking counts at once (about 300 bytes each)"},
    });
}

}  // namespace pmx::config
