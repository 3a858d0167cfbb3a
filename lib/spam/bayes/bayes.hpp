// The Bayes classifier of the anti-spam engine: a message's tokens (words of the decoded text,
// selected header tokens, URL hosts) hashed to 64 bits, counted per owner in the store as they
// are learned from spam and ham, and combined at scan time with Robinson's f(w) and Fisher's
// chi-square method (as SpamBayes does) into one probability of spam, 0..1.
//
// Owners: '' is the global database; a user's address is a per-user one (bayes.per_user). A
// per-user classification reads the user's counts added to the global ones; learning writes
// into exactly the owner given.
//
// Threads: every function takes the Database (one connection) it works on; give each thread
// its own connection (Database::cached statements are per connection) or serialize.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"
#include "spam/hit.hpp"
#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::config {
class Snapshot;
}

namespace pmx::spam::bayes {

using Token = std::uint64_t;

// ---- Tokenizer (tokenizer.cpp) ----------------------------------------------------------

// The token texts of a message, before hashing, deduplicated, in first-seen order: body words
// (ASCII lowercased unless ALL CAPS; non-ASCII words kept; CJK runs as bigrams), "subj:" words,
// header tokens ("from:", "to:", "rcvd:", "ct:", "xm:", "mid:"...), URL hosts
// ("url:"), MIME part facts ("part:") and parser flags ("flag:"). For tests and debugging.
std::vector<std::string> token_texts(const mail::ParsedMessage& message);

// The stable 64-bit hash stored in the database (changing it would orphan every learned token).
Token hash_token(std::string_view text);

// Hashed tokens of a message, sorted and deduplicated: what classify() and learn() take.
std::vector<Token> tokenize(const mail::ParsedMessage& message);

// ---- Settings (settings.cpp) ------------------------------------------------------------

struct Settings {
    bool enabled = true;                    // bayes.enabled
    std::int64_t min_spam = 200;            // bayes.min_spam: spam messages learned before classify answers
    std::int64_t min_ham = 200;             // bayes.min_ham
    bool per_user = false;                  // bayes.per_user
    bool auto_learn = true;                 // bayes.auto_learn
    double auto_learn_spam_score = 12.0;    // bayes.auto_learn_spam_score: learn as spam at or above
    double auto_learn_ham_score = 0.1;      // bayes.auto_learn_ham_score: learn as ham below
    std::int64_t token_max_age_days = 180;  // bayes.token_max_age_days: expire() drops older tokens
    // How the probability becomes points (points.cpp): pmx's own scale, or the BAYES_* rules'
    // scores from the rule files as SpamAssassin does.
    enum class Scale { Pmx, SpamAssassin };
    Scale scale = Scale::Pmx;               // bayes.score_scale
    double spam_points = 5.0;               // bayes.spam_points: points at 99% and above
    double ham_points = -2.0;               // bayes.ham_points: points at 1% and below
};

// Reads the bayes.* keys; the score thresholds are numbers written as strings ("12", "0.1"),
// an error names the key when one is not.
Result<Settings> settings_from(const config::Snapshot& snapshot);

// The owner to learn into / classify for: the recipient's address (lowercased) with
// per_user, else '' (global).
std::string owner_for(const Settings& settings, std::string_view recipient);

// ---- Points (points.cpp) ----------------------------------------------------------------
//
// pmx's scale (bayes.score_scale = "pmx"): the points grow with the log-odds of the
// probability, log10(p / (1 - p)), and reach spam_points at 99% (two decades) and ham_points
// at 1%; 50% is 0. Spam points go on to 1.5 x spam_points at 99.9% (like BAYES_999). SpamAssassin's BAYES_* scores (BAYES_99 = 3.5 to 3.8) were fitted by its
// perceptron next to rules pmx does not run (network tests, Received-relay and HTML evals), so
// with pmx's rules a sure Bayes verdict was left short of required_score by them.

// Points for a probability on pmx's scale.
double points(double probability, const Settings& settings);

// The scanner's step after the rules (scale "pmx"): the BAYES_* band hits of the rule files are
// replaced by one hit, named for the band that fired, carrying points(probability). Scale
// "spamassassin" or no probability: hits unchanged.
void score_hits(std::vector<spam::Hit>& hits, std::optional<double> probability, const Settings& settings);

// ---- Combining (classifier.cpp): pure math, no database ---------------------------------

// Defaults: SpamAssassin's x 0.538, tokens within 0.346 of 0.5 left out and 150 tokens, with
// s 0.16 (SpamAssassin's CombineChi.pm has 0.030). s trades spam caught against ham misjudged
// (bench/README.md: rules and Bayes at 5.0, main split, 0.030: 93.1% / 0.08%, 0.16: 95.9% /
// 0.19%, 0.45: 97.4% / 0.30% but 0.49% on another split); SpamBayes' (0.45, 0.5, 0.1)
// misjudge 0.7% of ham.
struct Params {
    double strength = 0.16;        // Robinson's s: weight of the prior x for rarely seen tokens
    double prior = 0.538;          // Robinson's x: probability of a token never seen
    double min_strength = 0.346;   // tokens with |f(w) - 0.5| <= this are left out
    std::size_t max_tokens = 150;  // the most significant tokens used
};

struct TokenCounts {
    std::int64_t spam = 0;  // spam messages learned that held the token
    std::int64_t ham = 0;
};

// Robinson's f(w) for a token seen in `c` of nspam spam and nham ham messages.
double robinson_f(TokenCounts c, std::int64_t nspam, std::int64_t nham, const Params& p = {});

// chi2Q: probability that a chi-square with `dof` (even) degrees of freedom is >= x2.
double chi2q(double x2, int dof);

// Fisher/Robinson chi-square combining of f(w) values (all of them are used: select first):
// (1 + S - H) / 2 with S, H the spam and ham indicators. 0.5 for an empty list.
double fisher_combine(const std::vector<double>& probabilities);

// The whole computation on counts: f(w) of each token, the max_tokens most significant
// beyond min_strength, combined. Tokens with no counts are skipped.
double combine(const std::vector<TokenCounts>& tokens, std::int64_t nspam, std::int64_t nham,
               const Params& p = {});

// ---- The store (store.cpp) --------------------------------------------------------------

enum class Kind { Spam, Ham };
std::string_view kind_name(Kind k);  // "spam", "ham"

struct Classification {
    double probability = 0.5;
    std::size_t tokens = 0;       // tokens of the message
    std::size_t known = 0;        // of them, with counts in the database
    std::size_t used = 0;         // significant ones combined
    std::int64_t spam_messages = 0, ham_messages = 0;  // learned, for the owner (+ global)
};

// nullopt until min_spam spam and min_ham ham messages were learned (for the owner plus
// global). Read-only; one query per 128 tokens through cached statements.
Result<std::optional<double>> classify(store::Database& db, const std::vector<Token>& tokens,
                                       std::string_view owner = "", const Settings& settings = {},
                                       const Params& params = {});
// The same with the numbers behind it; nullopt as above.
Result<std::optional<Classification>> classify_detail(store::Database& db, const std::vector<Token>& tokens,
                                                      std::string_view owner = "",
                                                      const Settings& settings = {}, const Params& params = {});

// ---- The milter's read path (snapshot.cpp) -----------------------------------------------
//
// The SQL path above costs ~4 µs a token (a B-tree seek each), about 1 ms for a message; the
// milter instead classifies against the global counts held in memory (16 bytes a token,
// a binary search each), refreshed by SnapshotCache when something was learned or expired.

class Snapshot {
public:
    // Reads every global token (owner '') and the global message counts.
    static Result<std::shared_ptr<const Snapshot>> load(store::Database& db);

    TokenCounts find(Token t) const;
    std::size_t size() const { return tokens_.size(); }
    std::int64_t spam_messages() const { return spam_; }
    std::int64_t ham_messages() const { return ham_; }

    // What the global row of bayes_owner said when loaded: learn, forget and expire change it.
    struct Generation {
        std::int64_t spam = 0, ham = 0, last_learn_us = 0, last_expire_us = 0;
        bool operator==(const Generation&) const = default;
    };
    static Result<Generation> current_generation(store::Database& db);
    const Generation& generation() const { return generation_; }

private:
    std::vector<std::int64_t> tokens_{};  // sorted (as stored: the signed bit pattern)
    std::vector<std::pair<std::uint32_t, std::uint32_t>> counts_{};  // spam, ham; same order
    std::int64_t spam_ = 0, ham_ = 0;
    Generation generation_{};
};

// Keeps a Snapshot fresh for many threads: get() asks the database whether the global tokens
// changed at most once per check_interval (one single-row query) and reloads when they did.
// One caller reloads; the others keep the snapshot they have meanwhile.
class SnapshotCache {
public:
    explicit SnapshotCache(std::chrono::milliseconds check_interval = std::chrono::seconds(30))
        : interval_(check_interval) {}
    // db: the calling thread's own connection. The first call loads (an error then is returned;
    // later reload errors keep the old snapshot and are returned once).
    Result<std::shared_ptr<const Snapshot>> get(store::Database& db);

private:
    std::chrono::milliseconds interval_;
    std::mutex mutex_{};
    std::shared_ptr<const Snapshot> current_{};
    std::chrono::steady_clock::time_point checked_{};
    bool reloading_ = false;
};

// Classification against a snapshot (the global counts). With an owner (bayes.per_user), that
// user's own counts are read from db (one query per 128 tokens) and added; db may be null
// when owner is empty.
Result<std::optional<Classification>> classify_detail(const Snapshot& snapshot, const std::vector<Token>& tokens,
                                                      store::Database* db = nullptr, std::string_view owner = "",
                                                      const Settings& settings = {}, const Params& params = {});
Result<std::optional<double>> classify(const Snapshot& snapshot, const std::vector<Token>& tokens,
                                       store::Database* db = nullptr, std::string_view owner = "",
                                       const Settings& settings = {}, const Params& params = {});

enum class LearnOutcome {
    Learned,       // new message: counted
    AlreadyKnown,  // learned before as this kind: nothing changed
    Relearned,     // learned before as the other kind: moved over
};
std::string_view outcome_name(LearnOutcome o);  // "learned", "already-known", "relearned"

// The key learn() remembers a message by: "mid:<Message-ID>" (the first one, trimmed), else
// "body:<hash of the decoded text and the Subject>".
std::string message_key(const mail::ParsedMessage& message);

// Learns one message into owner ('' = global). Opens its own transaction (a savepoint when the
// caller holds one: wrap many calls in db.transaction() to learn thousands per second).
// raw is unused today (kept so a key from the raw bytes stays possible).
Result<LearnOutcome> learn(store::Database& db, const mail::ParsedMessage& message, std::string_view raw,
                           Kind kind, std::string_view owner = "");
// The same with tokens and key already computed (auto-learn after classify reuses them).
Result<LearnOutcome> learn_tokens(store::Database& db, const std::vector<Token>& tokens,
                                  const std::string& key, Kind kind, std::string_view owner = "");

// Takes a learned message back out. false: it was not learned (for this owner).
Result<bool> forget(store::Database& db, const mail::ParsedMessage& message, std::string_view owner = "");
Result<bool> forget_tokens(store::Database& db, const std::vector<Token>& tokens, const std::string& key,
                           std::string_view owner = "");

struct ExpireResult {
    std::int64_t tokens = 0;  // token rows removed
    std::int64_t seen = 0;    // seen-message rows removed (those messages may be learned again)
};
// Removes tokens not learned for max_age_days (all owners), and seen-message records as old.
Result<ExpireResult> expire(store::Database& db, std::int64_t max_age_days);

struct OwnerStats {
    std::string owner;  // '' = global
    std::int64_t spam_messages = 0, ham_messages = 0, tokens = 0;
    std::int64_t last_learn_us = 0, last_expire_us = 0;
};
struct Stats {
    std::vector<OwnerStats> owners;  // global first (always present), then users by address
    std::int64_t tokens = 0;         // rows, all owners
};
Result<Stats> stats(store::Database& db);

}  // namespace pmx::spam::bayes
