// SpamAssassin-format rules: load *.cf files once, then check many messages against them.
//
// load_rules() reads the rule directories the way SpamAssassin does (each directory's *.cf
// sorted by name, `include` followed, later definitions win, the admin's overrides last), keeps
// every rule it can run and records every rule it cannot (with file:line and a reason) instead of
// failing. Regex rules of one kind are compiled together into one vectorscan database (prefilter
// mode, so it finds a superset of the matches) and each candidate is confirmed with PCRE2 (JIT);
// patterns vectorscan refuses run on PCRE2 alone. A RuleSet is immutable: check() may run on many
// threads at once.
//
// Score sets (SpamAssassin's `score NAME a b c d`): set 0 = no Bayes, no network tests;
// 1 = network; 2 = Bayes; 3 = Bayes and network. pmx picks set (bayes_enabled ? 2 : 0) +
// (network_enabled ? 1 : 0); a `score` line with one value applies to every set. A rule whose
// score is 0 in the chosen set does not run (as in SpamAssassin), except `__` sub-rules, which
// always run and are never reported.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"
#include "spam/hit.hpp"
#include "util/result.hpp"

namespace pmx::spam::rules {

struct LoadOptions {
    // Rule directories in load order; each one's *.cf files are read sorted by name.
    // A path to a single file is read as that file.
    std::vector<std::filesystem::path> dirs;
    // Admin overrides, read after everything in dirs: a .cf file or a directory of them.
    // Empty or missing: none (a configured path that does not exist is not an error).
    std::vector<std::filesystem::path> admin;
    bool bayes_enabled = false;    // picks score sets 2/3 (BAYES_* rules score)
    bool network_enabled = false;  // picks score sets 1/3; DNSBL hits come in CheckInput::net_hits
    // Where compiled vectorscan databases are kept between loads (compiling SpamAssassin's ~1300
    // regexes takes a while; loading them from here is fast). Empty: compile every time.
    std::filesystem::path cache_dir;
    // false: every regex on PCRE2 alone (tests compare both ways; loading is faster).
    bool use_vectorscan = true;
    // Caps on what the rule files may ask for (a hostile or broken file must not exhaust memory).
    std::size_t max_files = 10000;
    std::size_t max_file_bytes = 64u << 20;
    int max_include_depth = 10;
};

enum class RuleType { Header, Body, Rawbody, Full, Uri, Mimeheader, Meta };
const char* type_name(RuleType t);  // "header", "body", ...

// One rule as `pmx spam rules` shows it.
struct RuleInfo {
    std::string name;
    RuleType type;
    double score = 0;          // in the chosen score set
    std::string description;   // English `describe`, "" when none
    std::string tflags;        // as written, "" when none
    std::string source;        // "file:line" of the definition in force
    bool is_eval = false;      // an eval: test (implemented by pmx)
};

// A rule the engine cannot run: listed, never fatal.
struct Unsupported {
    std::string name;
    std::string source;  // "file:line"
    std::string reason;  // "eval:check_razor2() is not implemented (network)", "regex: ...", ...
};

struct CheckInput {
    const mail::ParsedMessage& message;
    std::string_view raw;                         // the whole raw message (headers, blank line, body)
    std::optional<double> bayes_probability;      // 0..1 from the Bayes part; absent: BAYES_* never hit
    // Names of rules other parts decided (e.g. DNSBL hits "RCVD_IN_PMX_TEST", "URIBL_BLACK"):
    // a rule of this name that the engine cannot run itself (check_rbl*, urirhssub, ...) counts as
    // hit, and meta rules see it.
    std::set<std::string, std::less<>> external_hits;
    std::string envelope_from;                    // SMTP MAIL FROM, for EnvelopeFrom (may be empty)
    // The message's URIs when the caller already has them (spam::extract_uris: the scanner needs
    // them for blocklists too); nullptr: `uri` rules extract them when first needed.
    const std::vector<std::string>* uris = nullptr;
};

class RuleSet {
public:
    ~RuleSet();
    RuleSet(const RuleSet&) = delete;
    RuleSet& operator=(const RuleSet&) = delete;

    // Rules that hit with a non-zero score, in name order; never `__` sub-rules. Scores are of the
    // chosen score set; descriptions the rule's English `describe` (or "").
    std::vector<spam::Hit> check(const CheckInput& in) const;
    // The same, and also every sub-rule and zero-score rule that hit (for tests and the benchmark).
    std::vector<std::string> check_all_names(const CheckInput& in) const;

    std::size_t rule_count() const;                       // rules that run (sub-rules included)
    std::vector<RuleInfo> rules() const;                  // every runnable rule, name order
    const std::vector<Unsupported>& unsupported() const;  // name order
    double required_score() const;                        // `required_score` from the files (default 5)
    std::size_t files_read() const;
    // Regex rules whose pattern is in a vectorscan database (the rest run on PCRE2 alone).
    std::size_t vectorscan_patterns() const;
    std::size_t pcre_only_patterns() const;

    struct Impl;
    explicit RuleSet(std::unique_ptr<Impl> impl);

private:
    std::unique_ptr<Impl> impl_;
};

// Fails only when a configured directory or file cannot be read (message names it, with file:line
// for an unreadable `include`). Everything else that is wrong lands in unsupported().
Result<std::shared_ptr<const RuleSet>> load_rules(const LoadOptions& options);

}  // namespace pmx::spam::rules
