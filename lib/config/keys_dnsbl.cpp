// Keys of the anti-spam engine's dnsbl part: DNS blocklists for the client address and URI hosts.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
// The zone entries' own syntax is checked by spam::dnsbl::settings_from_config (lib/spam/dnsbl).
#include "config/keys.hpp"

namespace pmx::config {

void add_dnsbl_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "dnsbl.enabled", .type = Type::Boolean, .default_value = true, .services = {"milter"},
         .doc = "Look up the client address and URI hosts in the configured DNS blocklists"},
        {.name = "dnsbl.ip_zones", .type = Type::StringList, .default_value = StringList{},
         .services = {"milter"},
         .doc = "Blocklists of client addresses: ZONE=MATCH:LABEL:SCORE[,MATCH:LABEL:SCORE...]"},
        {.name = "dnsbl.uri_zones", .type = Type::StringList, .default_value = StringList{},
         .services = {"milter"},
         .doc = "Blocklists of domains in message URIs: ZONE=MATCH:LABEL:SCORE[,MATCH:LABEL:SCORE...]"},
        {.name = "dnsbl.nameservers", .type = Type::StringList, .default_value = StringList{},
         .services = {"milter"},
         .doc = "Resolvers to ask (IP, IP:PORT or [IPv6]:PORT); empty means those of /etc/resolv.conf"},
        {.name = "dnsbl.timeout_ms", .type = Type::Integer, .default_value = std::int64_t{1500},
         .min = 50, .max = 30000, .services = {"milter"},
         .doc = "Time all blocklist lookups of one message get together; later answers are dropped"},
        {.name = "dnsbl.cache_seconds", .type = Type::Integer, .default_value = std::int64_t{300},
         .min = 0, .max = 86400, .services = {"milter"},
         .doc = "Longest an answer is reused (shorter when its DNS TTL is); 0 turns the cache off"},
        {.name = "dnsbl.cache_entries", .type = Type::Integer, .default_value = std::int64_t{10000},
         .min = 0, .max = 1000000, .services = {"milter"},
         .doc = "Most answers cached; the least recently used go first"},
        {.name = "dnsbl.max_uri_hosts", .type = Type::Integer, .default_value = std::int64_t{20},
         .min = 0, .max = 1000, .services = {"milter"},
         .doc = "Most distinct URI hosts of one message looked up; the first ones in the message win"},
    });
}

}  // namespace pmx::config
