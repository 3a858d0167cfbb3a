// Perl regexes of rule files on PCRE2 (JIT) and vectorscan.
//
// PatternSet holds the patterns of one kind of rule (all body rules, all rawbody rules, ...).
// Every pattern vectorscan accepts goes into one database compiled in prefilter mode, which finds
// a superset of the real matches; a candidate it reports is then confirmed by PCRE2 on the text
// segments one by one, so results are PCRE2's semantics exactly. Patterns vectorscan refuses (and
// those anchored with \A, \z, \Z, \G, which the joined scan text would break) run on PCRE2 alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

struct hs_database;
struct hs_scratch;

namespace pmx::spam::rules::detail {

struct PerlRegex {
    std::string pattern;  // between the delimiters
    bool i = false, m = false, s = false, x = false;
};

// "/re/flags", "m{re}flags", "m!re!flags", "m(re)", "m<re>", ... Flags i m s x (o, g, a, u, l and
// p are accepted and ignored, as SpamAssassin does).
Result<PerlRegex> parse_perl_regex(std::string_view text);

// One PCRE2 pattern, JIT-compiled. Matching is thread-safe (per-thread match data and JIT stack).
// A match that runs into PCRE2's match or depth limit (catastrophic backtracking on hostile input)
// counts as no match.
class Pcre {
public:
    static Result<std::shared_ptr<const Pcre>> compile(const PerlRegex& re);
    ~Pcre();
    Pcre(const Pcre&) = delete;
    Pcre& operator=(const Pcre&) = delete;

    bool search(std::string_view subject) const;
    // Matches one after another (each after the end of the previous; empty matches advance by one),
    // at most `max` of them.
    int count(std::string_view subject, int max) const;

private:
    explicit Pcre(void* code) : code_(code) {}
    void* code_ = nullptr;  // pcre2_code_8

};

// Text to scan: segments (body paragraphs, header values, URIs) scanned as one buffer, joined by
// '\n', so vectorscan reads the message once.
class ScanText {
public:
    void add(std::string_view segment);
    void clear();
    const std::string& joined() const { return joined_; }
    std::size_t size() const { return offsets_.size(); }
    std::string_view segment(std::size_t i) const {
        return std::string_view(joined_).substr(offsets_[i], lengths_[i]);
    }

private:
    std::string joined_;
    std::vector<std::size_t> offsets_, lengths_;
};

class PatternSet;

// vectorscan scratch space for every database of a rule set: one prototype, cloned once per thread.
class Scratch {
public:
    Scratch() = default;
    ~Scratch();
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;
    bool add(const PatternSet& set);
    // generation: a number unique to the owner (a thread's clone is replaced when it changes).
    hs_scratch* for_this_thread(std::uint64_t generation) const;

private:
    hs_scratch* proto_ = nullptr;
};

class PatternSet {
public:
    PatternSet();
    ~PatternSet();
    PatternSet(PatternSet&&) noexcept;
    PatternSet& operator=(PatternSet&&) noexcept;

    // Returns the pattern's index, or an error when PCRE2 cannot compile it.
    Result<std::size_t> add(const PerlRegex& re);
    // Builds the vectorscan databases from every pattern it accepts (the others fall back to
    // PCRE2). With a cache_dir, compiled databases are kept there (named by a hash of their
    // patterns and the vectorscan version) and loaded instead of compiled next time.
    void build(const std::filesystem::path& cache_dir = {});
    void build_pcre_only();

    std::size_t size() const { return pcres_.size(); }
    std::size_t vectorscan_count() const { return in_hs_count_; }
    std::size_t pcre_only_count() const { return pcres_.size() - in_hs_count_; }
    const Pcre& pcre(std::size_t i) const { return *pcres_[i]; }

    // counts[i] (resized to size()) = number of matches of pattern i over all segments, counted
    // up to max_count[i] (1: whether it matches at all; a `tflags multiple` rule: its maxhits).
    // scratch: from Scratch::for_this_thread() of the set's owner (nullptr: PCRE2 confirms every
    // pattern of the databases, slow but correct).
    void scan(const ScanText& text, const std::vector<int>& max_count, std::vector<int>& counts,
              hs_scratch* scratch) const;
    bool grow_scratch(hs_scratch** proto) const;

private:
    std::vector<std::shared_ptr<const Pcre>> pcres_;
    std::vector<PerlRegex> sources_;
    std::vector<bool> in_hs_;
    std::vector<std::size_t> pcre_only_;  // indexes of patterns not in the database
    std::size_t in_hs_count_ = 0;
    std::vector<hs_database*> dbs_;
};

}  // namespace pmx::spam::rules::detail
