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
    s.scale = snapshot.string("bayes.score_scale") == "spamassassin" ? Settings::Scale::SpamAssassin : Settings::Scale::Pmx;
    auto spam_points = number(snapshot, "bayes.spam_points");
    if (!spam_points) return spam_points.error();
    auto ham_points = number(snapshot, "bayes.ham_points");
    if (!ham_points) return ham_points.error();
    if (*spam_points < 0 || *spam_points > 100)
        return Error{fmt::format("{}: bayes.spam_points: {} is out of range (0 to 100)",
                                 snapshot.setting("bayes.spam_points").origin.describe(), *spam_points)};
    if (*ham_points > 0 || *ham_points < -100)
        return Error{fmt::format("{}: bayes.ham_points: {} is out of range (-100 to 0)",
                                 snapshot.setting("bayes.ham_points").origin.describe(), *ham_points)};
    s.spam_points = *spam_points;
    s.ham_points = *ham_points;
    return s;
}

std::string owner_for(const Settings& settings, std::string_view recipient) {
    if (!settings.per_user) return {};
    std::string_view r = trim(recipient);
    if (r.size() >= 2 && r.front() == '<' && r.back() == '>') r = r.substr(1, r.size() - 2);
    return ascii_lower(r);
}

}  // namespace pmx::spam::bayes
