// The anti-spam engine as one step: a message in, one score out, with every point explained.
//
// Order of work for one message: URIs are extracted once; the DNS blocklist lookups (client IP
// and URI hosts) go out first, all at once; Bayes reads its tokens from the store; the rules run
// last, seeing the Bayes probability (BAYES_* rules) and the names of the blocklist hits (meta
// rules and check_rbl-style rules of the rule files); with bayes.score_scale = "pmx" the BAYES_*
// band hit then carries pmx's points (bayes::score_hits). The score is the sum of the rule hits
// plus the blocklist hits no rule already counted.
//
// A Scanner is built from one config snapshot and is immutable: many milter threads scan with it
// at once. A reload builds a new one (rules compiled again) and keeps the blocklist cache.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/loader.hpp"
#include "mail/message.hpp"
#include "spam/bayes/bayes.hpp"
#include "spam/dnsbl/dnsbl.hpp"
#include "spam/hit.hpp"
#include "spam/rules/rules.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::spam {

struct ScanInput {
    const mail::ParsedMessage& message;
    std::string_view raw;            // the whole message as received
    std::string_view client_ip;      // "" for internal clients and local submission: not looked up
    std::string_view envelope_from;  // MAIL FROM, for rules that read EnvelopeFrom
    // Bayes: the global token counts in memory (bayes::SnapshotCache), and/or a connection
    // (used by this thread alone while scan() runs) for per-user counts, or for everything when
    // there is no snapshot. Both null: no Bayes for this message.
    const bayes::Snapshot* bayes_snapshot = nullptr;
    store::Database* bayes_db = nullptr;
    std::string_view bayes_owner;    // bayes::owner_for(...): "" = the global token store
};

struct Report {
    double score = 0;
    double required = 5;                      // the rule files' required_score
    std::vector<Hit> hits;                    // highest score first, then by name
    std::optional<double> bayes_probability;  // absent: Bayes off, not trained enough, or failed
    std::vector<bayes::Token> tokens;         // the message's Bayes tokens (for auto-learn)
    std::string bayes_key;                    // bayes::message_key (for auto-learn)
    std::vector<std::string> problems;        // what failed and was left out ("bayes: database is locked")
    std::chrono::microseconds elapsed{0};
    std::chrono::microseconds dnsbl_elapsed{0};

    bool is_spam() const { return score >= required; }
    std::vector<std::string> hit_names() const;
};

class Scanner {
public:
    // Reads spam.*, bayes.* and dnsbl.* and loads the rule files. `previous` lends its
    // blocklist cache, so a reload does not forget what was looked up.
    static Result<std::shared_ptr<const Scanner>> from_config(const config::Snapshot& snapshot,
                                                              const config::Layout& layout,
                                                              const Scanner* previous = nullptr);

    Report scan(const ScanInput& input) const;

    bool enabled() const { return enabled_; }
    const rules::RuleSet& rules() const { return *rules_; }
    const bayes::Settings& bayes_settings() const { return bayes_; }
    const dnsbl::Checker& dnsbl() const { return *dnsbl_; }

    // What the milter does around the scan (spam.add_headers, spam.max_message_bytes).
    struct HeaderSettings {
        bool add = true;                          // spam.add_headers
        std::size_t max_message_bytes = 2 << 20;  // spam.max_message_bytes
    };
    const HeaderSettings& headers() const { return headers_; }

    Scanner(bool enabled, std::shared_ptr<const rules::RuleSet> rules, bayes::Settings bayes,
            std::shared_ptr<const dnsbl::Checker> dnsbl, HeaderSettings headers);

private:
    bool enabled_;
    std::shared_ptr<const rules::RuleSet> rules_;
    bayes::Settings bayes_;
    std::shared_ptr<const dnsbl::Checker> dnsbl_;
    HeaderSettings headers_;
};

// X-PMX-Spam-Status, SpamAssassin's X-Spam-Status shape:
// "Yes, score=7.3 required=5.0 tests=BAYES_99,SUBJ_ALL_CAPS bayes=0.998"
std::string status_header(const Report& report);

// Whether auto-learn takes this message, and as what: the score without the Bayes rules' own
// points (a message must not teach Bayes what Bayes said) at or above the spam threshold, or
// below the ham threshold. nullopt: neither, auto-learn off, or the message has no tokens.
std::optional<bayes::Kind> auto_learn_kind(const Report& report, const bayes::Settings& settings);

}  // namespace pmx::spam
