// LoadOptions from the configuration: spam.rule_dirs, spam.admin_rules, spam.rules_cache and
// bayes.enabled (which picks SpamAssassin's Bayes score sets).
#pragma once

#include "config/loader.hpp"
#include "spam/rules/rules.hpp"

namespace pmx::spam::rules {

// Relative rule_dirs are under layout.vendor_dir, admin_rules under layout.config_dir, the cache
// under the state directory. network_enabled stays false: pmx runs none of SpamAssassin's network
// tests itself (its DNSBL part scores its own listings), so rules keep their local-test scores.
LoadOptions load_options(const config::Snapshot& snapshot, const config::Layout& layout);

}  // namespace pmx::spam::rules
