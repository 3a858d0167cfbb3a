// The one table of every pmx.toml key: name, type, default, range, doc, and who must reload.
// Everything else (validation, `pmx config show --defaults`, pmx.toml(5) checks) reads this table.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pmx::config {

enum class Type { Boolean, Integer, String, Enum, StringList };

using StringList = std::vector<std::string>;
using Value = std::variant<bool, std::int64_t, std::string, StringList>;

// How a change takes effect in a running daemon.
enum class Apply {
    Reload,   // the listed services re-read it on Reload()
    Restart,  // the listed services read it only at start (e.g. the socket they bind)
};

struct KeySpec {
    std::string_view name{};   // "milter.max_recipients": section.key
    Type type = Type::String;
    Value default_value{};
    std::int64_t min = 0;      // Integer: inclusive range
    std::int64_t max = 0;
    std::vector<std::string_view> choices{};  // Enum: allowed strings
    std::vector<std::string_view> services{}; // service ids (services/registry.hpp) that use it; "*" = all
    Apply apply = Apply::Reload;
    std::string_view doc{};    // one line, shown by `pmx config show` and in pmx.toml(5)
};

std::span<const KeySpec> all_keys();
const KeySpec* find_key(std::string_view name);

// True when the key concerns the given service id (directly or through "*").
bool key_affects(const KeySpec& spec, std::string_view service_id);

std::string_view type_name(Type t);

// TOML literal of a value, as it would be written in pmx.toml: "text", 42, true.
std::string to_toml_literal(const Value& v);
// Plain text, for `pmx config get`: text, 42, true.
std::string to_plain(const Value& v);

// The closest known key to a mistyped one, or "" when nothing is close enough.
std::string suggest_key(std::string_view unknown);
// Edit distance with transpositions (optimal string alignment), exposed for tests.
std::size_t edit_distance(std::string_view a, std::string_view b);

// Parses a command-line text into the key's type (a StringList from comma-separated items) and checks it; used by `pmx config set`.
// Errors name the key and say what is allowed.
struct ParseResult {
    bool ok;
    Value value;
    std::string error;
};
ParseResult parse_text_value(const KeySpec& spec, std::string_view text);

// Checks type, range and choices of an already-typed value. Empty string when fine.
std::string check_value(const KeySpec& spec, const Value& v);

}  // namespace pmx::config
