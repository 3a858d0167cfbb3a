// Keys of the anti-spam engine: rules, Bayes, DNS blocklists, score headers.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
// The rules part reads them through spam::rules::load_options (lib/spam/rules/options.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_spam_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "spam.enabled", .type = Type::Boolean, .default_value = true, .services = {"milter"},
         .doc = "Score every message (rules, Bayes, DNS blocklists) for the policy's spam_score conditions"},
        {.name = "spam.max_message_bytes", .type = Type::Integer, .default_value = std::int64_t{2 * MiB},
         .min = 64 * KiB, .max = 64 * MiB, .services = {"milter"},
         .doc = "Larger messages are not spam-scanned (no spam score); spam is small, scanning big mail is slow"},
        {.name = "spam.add_headers", .type = Type::Boolean, .default_value = true, .services = {"milter"},
         .doc = "Write X-PMX-Spam-Status (verdict, score, rules hit, Bayes) into delivered mail"},
        {.name = "spam.rule_dirs", .type = Type::StringList, .default_value = StringList{"spam"},
         .services = {"milter"},
         .doc = "SpamAssassin-format rule directories (*.cf, read in name order), in load order; relative "
                "paths are under the vendor directory (/usr/share/pmx)"},
        {.name = "spam.admin_rules", .type = Type::String, .default_value = std::string("spam.d"),
         .services = {"milter"},
         .doc = "The admin's own rules and score overrides, read last: a .cf file or a directory of them; "
                "relative paths are under /etc/pmx; a missing path is no error"},
        {.name = "spam.rules_cache", .type = Type::String, .default_value = std::string("rules-cache"),
         .services = {"milter"},
         .doc = "Directory for compiled rule databases (relative paths are under the state directory); "
                "empty: compile at every load"},
    });
}

}  // namespace pmx::config
