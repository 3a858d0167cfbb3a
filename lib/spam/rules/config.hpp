// The rule files read into definitions (parser.cpp): what each line of SpamAssassin's format says,
// before anything is compiled. Later definitions of a name replace earlier ones.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "spam/rules/rules.hpp"
#include "util/result.hpp"

namespace pmx::spam::rules::detail {

struct RuleDef {
    std::string name;
    RuleType type = RuleType::Body;
    std::string source;  // "file:line"
    std::string text;    // the definition after the name (regex, eval:..., meta expression, header spec)
    std::size_t order = 0;
};

struct ReplaceTags {
    std::string start = "<", end = ">";
    std::map<std::string, std::string> tag, pre, post, inter;
    std::set<std::string> rules;
};

struct ParsedConfig {
    std::map<std::string, RuleDef> rules;
    std::map<std::string, std::vector<double>> scores;  // always 4 values
    std::map<std::string, std::string> describe, tflags;
    std::map<std::string, int> priority;
    ReplaceTags replace;
    double required_score = 5;
    std::size_t files = 0;
    std::vector<Unsupported> problems;              // lines that could not be read as a rule
    std::map<std::string, Unsupported> skipped;     // rules in blocks of plugins pmx does not load
};

struct ParseOptions {
    bool network_enabled = false;
    const LoadOptions* load = nullptr;
};

// The SpamAssassin plugins whose rule blocks pmx reads (`ifplugin X` is true): those of
// SpamAssassin's default v3xx.pre set that pmx implements in whole or in part. Their eval: tests
// pmx lacks are listed as unsupported rather than silently skipped.
bool plugin_loaded(std::string_view name);

Result<ParsedConfig> parse_rule_files(const LoadOptions& options);

// One file's text into cfg (for tests), as if it were a file named `name`.
Result<void> parse_rule_text(ParsedConfig& cfg, const std::string& text, const std::string& name,
                             const LoadOptions& options);

}  // namespace pmx::spam::rules::detail
