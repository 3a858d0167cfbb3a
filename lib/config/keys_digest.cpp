// Keys of the digest section: `pmx quarantine digest` and `digest-reply` (lib/digest) read
// them at each run. No daemon reads them; they name pmx-queued, which delivers the digests
// (a reload of it after `pmx config set digest.*` is harmless).
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_digest_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "digest.from", .type = Type::String, .default_value = std::string(""), .services = {"queued"},
         .doc = "From address (and envelope sender) of digests; empty: postmaster@ this host's name"},
        {.name = "digest.reply_to", .type = Type::String, .default_value = std::string(""), .services = {"queued"},
         .doc = "Reply-To of digests: the address whose mail `pmx quarantine digest-reply` processes; "
                "empty: release by reply is off"},
        {.name = "digest.link_base_url", .type = Type::String, .default_value = std::string(""), .services = {"queued"},
         .doc = "Release links are this text followed by the token, e.g. "
                "https://mail.example.com/quarantine/release?token= ; empty: no links, release codes only"},
        {.name = "digest.link_valid_days", .type = Type::Integer, .default_value = std::int64_t{14},
         .min = 1, .max = 365, .services = {"queued"},
         .doc = "Days a digest's release links and codes stay valid"},
        {.name = "digest.subject", .type = Type::String,
         .default_value = std::string("Quarantine digest: {count} new held message(s)"), .services = {"queued"},
         .doc = "Subject of digests; {count} and {recipient} are replaced"},
        {.name = "digest.max_entries", .type = Type::Integer, .default_value = std::int64_t{100},
         .min = 1, .max = 10000, .services = {"queued"},
         .doc = "Most messages one digest lists (the newest); the others are counted, not listed"},
        {.name = "digest.max_age_days", .type = Type::Integer, .default_value = std::int64_t{7},
         .min = 1, .max = 3650, .services = {"queued"},
         .doc = "Messages held longer than this are never listed (first digest, digest after opting in again)"},
        {.name = "digest.templates", .type = Type::String, .default_value = std::string("digest"), .services = {"queued"},
         .doc = "Directory of the digest templates; a relative path is looked up under /etc/pmx first, "
                "file by file, then under /usr/share/pmx"},
        {.name = "digest.max_reply_bytes", .type = Type::Integer, .default_value = std::int64_t{1 * MiB},
         .min = 16 * KiB, .max = 64 * MiB, .services = {"queued"},
         .doc = "Longest reply to a digest read by `pmx quarantine digest-reply`; the rest is ignored"},
    });
}

}  // namespace pmx::config
