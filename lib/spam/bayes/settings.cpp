// Settings of the Bayes classifier from the configuration's bayes.* keys.
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "config/loader.hpp"
#include "spam/bayes/bayes.hpp"
#include "util/text.hpp"

namespace pmx::spam::bayes {

namespace {

// Score thresholds are numbers with a fraction ("0.1"); the key table has no such type, so
// they are strings checked here.
Result<double> number(const config::Snapshot& snapshot, std::string_view key) {
    const auto& setting = snapshot.setting(key);
    const std::string& text = snapshot.string(key);
    errno = 0;
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v))
        return Error{fmt::format("{}: {}: \"{}\" is not a number (write e.g. \"12\" or \"0.1\")",
                                 setting.origin.describe(), key, text)};
    return v;
}

}  // namespace

Result<Settings> settings_from(const config::Snapshot& snapshot) {
    Settings s;
    s.enabled = snapshot.boolean("bayes.enabled");
    s.min_spam = snapshot.integer("bayes.min_spam");
    s.min_ham = snapshot.integer("bayes.min_ham");
    s.per_user = snapshot.boolean("bayes.per_user");
    s.auto_learn = snapshot.boolean("bayes.auto_learn");
    auto spam = number(snapshot, "bayes.auto_learn_spam_score");
    if (!spam) return spam.error();
    auto ham = number(snapshot, "bayes.auto_learn_ham_score");
    if (!ham) return ham.error();
    if (*ham >= *spam)
        return Error{fmt::format("bayes.auto_learn_ham_score ({}) must be below bayes.auto_learn_spam_score ({})",
                                 *ham, *spam)};
    s.auto_learn_spam_score = *spam;
    s.auto_learn_ham_score = *ham;
    s.token_max_age_days = snapshot.integer("bayes.token_max_age_days");
    return s;
}

std::string owner_for(const Settings& settings, std::string_view recipient) {
    if (!settings.per_user) return {};
    std::string_view r = trim(recipient);
    if (r.size() >= 2 && r.front() == '<' && r.back() == '>') r = r.substr(1, r.size() - 2);
    return ascii_lower(r);
}

}  // namespace pmx::spam::bayes
