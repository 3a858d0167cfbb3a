// Compiled regular expressions for policy conditions: PCRE2 (Perl syntax), JIT-compiled when the
// platform allows, UTF-8 mode that tolerates invalid UTF-8 in the subject (mail is full of it).
// A compiled Regex is immutable and shared between threads; matching allocates nothing after the
// first match on a thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::policy {

class Regex {
public:
    // Match limit per subject: a pathological pattern against attacker-controlled text gives up
    // (and counts as no match) instead of burning the CPU. PCRE2's own default is 10,000,000.
    static constexpr unsigned default_match_limit = 1'000'000;

    // Errors read "missing closing parenthesis at offset 7".
    static Result<Regex> compile(std::string_view pattern, unsigned match_limit = default_match_limit);

    enum class Match { No, Yes, LimitHit };
    Match match(std::string_view subject) const;
    bool matches(std::string_view subject) const { return match(subject) == Match::Yes; }
    const std::string& pattern() const;
    bool jit() const;

private:
    struct Impl;
    std::shared_ptr<const Impl> impl_;
};

}  // namespace pmx::policy
