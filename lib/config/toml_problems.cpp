#include "config/toml_problems.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace pmx::config {

void TomlProblems::add(const std::string& file, const toml::source_region& where, std::string_view key,
                       std::string_view reason) {
    pending_.push_back({where.begin.line, where.begin.column,
                        fmt::format("{}:{}:{}: {}: {}", file, where.begin.line, where.begin.column, key, reason)});
}

void TomlProblems::finish_file() {
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    for (auto& p : pending_) done_.push_back(std::move(p.text));
    pending_.clear();
}

std::string_view toml_type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        default: return "a date/time";
    }
}

}  // namespace pmx::config
