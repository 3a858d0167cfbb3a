// The eval: tests pmx implements (SpamAssassin's Perl functions of the same name), by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/rules/views.hpp"

namespace pmx::spam::rules::detail {

// Returns the hit count (0: no hit). args are the eval's arguments with quotes removed.
using EvalFn = int (*)(View& view, const std::vector<std::string>& args);

struct EvalInfo {
    EvalFn fn = nullptr;           // nullptr: not implemented
    std::string reason;            // why not, when fn is nullptr
    bool external = false;         // a network test: counts as hit when CheckInput::external_hits names the rule
};

EvalInfo find_eval(std::string_view name);

// "check_bayes('0.99', '1.00')" → name and arguments. nullopt when it is not a call.
std::optional<std::pair<std::string, std::vector<std::string>>> parse_eval_call(std::string_view text);

// Names of every implemented eval (for documentation and `pmx spam rules`).
std::vector<std::string> implemented_evals();

}  // namespace pmx::spam::rules::detail
