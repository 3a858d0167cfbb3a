// spam.* keys into LoadOptions.
#include "spam/rules/options.hpp"

#include "util/paths.hpp"

namespace pmx::spam::rules {

LoadOptions load_options(const config::Snapshot& snapshot, const config::Layout& layout) {
    namespace fs = std::filesystem;
    LoadOptions o;
    for (const auto& d : snapshot.strings("spam.rule_dirs")) {
        fs::path p(d);
        o.dirs.push_back(p.is_absolute() ? p : layout.vendor_dir / p);
    }
    if (const auto& a = snapshot.string("spam.admin_rules"); !a.empty()) {
        fs::path p(a);
        o.admin.push_back(p.is_absolute() ? p : layout.config_dir / p);
    }
    if (const auto& c = snapshot.string("spam.rules_cache"); !c.empty()) o.cache_dir = state_path(c);
    o.bayes_enabled = snapshot.boolean("bayes.enabled");
    o.network_enabled = false;
    return o;
}

}  // namespace pmx::spam::rules
