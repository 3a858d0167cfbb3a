// Keys of the anti-spam engine's bayes part: when the classifier answers, whose tokens it
// reads, when the milter learns by itself, and how long tokens live.
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
// The score thresholds' syntax is checked by spam::bayes::settings_from (lib/spam/bayes).
#include "config/keys.hpp"

namespace pmx::config {

void add_bayes_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "bayes.enabled", .type = Type::Boolean, .default_value = true, .services = {"milter"},
         .doc = "Classify messages with the Bayes token database (once enough mail is learned)"},
        {.name = "bayes.min_spam", .type = Type::Integer, .default_value = std::int64_t{200},
         .min = 1, .max = 1000000, .services = {"milter"},
         .doc = "Spam messages learned before Bayes gives an answer"},
        {.name = "bayes.min_ham", .type = Type::Integer, .default_value = std::int64_t{200},
         .min = 1, .max = 1000000, .services = {"milter"},
         .doc = "Ham (good) messages learned before Bayes gives an answer"},
        {.name = "bayes.per_user", .type = Type::Boolean, .default_value = false, .services = {"milter"},
         .doc = "Learn and classify per recipient: a user's tokens count together with the global ones"},
        {.name = "bayes.auto_learn", .type = Type::Boolean, .default_value = true, .services = {"milter"},
         .doc = "Learn messages whose score is clearly spam or clearly ham without being told"},
        {.name = "bayes.auto_learn_spam_score", .type = Type::String, .default_value = std::string("12"),
         .services = {"milter"},
         .doc = "Score (without Bayes) at or above which a message is learned as spam: a number"},
        {.name = "bayes.auto_learn_ham_score", .type = Type::String, .default_value = std::string("0.1"),
         .services = {"milter"},
         .doc = "Score (without Bayes) below which a message is learned as ham: a number"},
        {.name = "bayes.score_scale", .type = Type::Enum, .default_value = std::string("pmx"),
         .choices = {"pmx", "spamassassin"}, .services = {"milter"},
         .doc = "How the Bayes probability becomes points: pmx's scale (bayes.spam_points, bayes.ham_points) "
                "or the BAYES_* rules' scores of the rule files"},
        {.name = "bayes.spam_points", .type = Type::String, .default_value = std::string("5"),
         .services = {"milter"},
         .doc = "Points of a Bayes probability of 99% or more on pmx's scale (fewer below): a number, 0 to 100"},
        {.name = "bayes.ham_points", .type = Type::String, .default_value = std::string("-2"),
         .services = {"milter"},
         .doc = "Points of a Bayes probability of 1% or less on pmx's scale (fewer above): a number, -100 to 0"},
        {.name = "bayes.token_max_age_days", .type = Type::Integer, .default_value = std::int64_t{180},
         .min = 1, .max = 36500, .services = {"milter"},  // the milter owns the tokens; the job (CLI) expires them
         .doc = "Tokens not learned for this many days are removed by pmx spam expire-tokens"},
    });
}

}  // namespace pmx::config
