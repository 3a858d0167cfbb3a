// What pmx.toml and jobs.toml report about a TOML file, shared by both loaders: problems named
// "file:line:column: key: reason", listed in file order, and the names of TOML types in words.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace pmx::config {

class TomlProblems {
public:
    // One problem at a place in the file being read.
    void add(const std::string& file, const toml::source_region& where, std::string_view key, std::string_view reason);
    // Ends the file: its problems join the list in line order (toml++ iterates tables by key).
    void finish_file();
    // A problem without a place (unreadable file, syntax error): joins the list as is.
    void add_line(std::string text) { done_.push_back(std::move(text)); }

    const std::vector<std::string>& lines() const { return done_; }
    std::vector<std::string> take() { return std::move(done_); }
    bool empty() const { return done_.empty() && pending_.empty(); }

private:
    struct Pending {
        std::uint32_t line, column;
        std::string text;
    };
    std::vector<Pending> pending_;
    std::vector<std::string> done_;
};

// "a table", "an array", "a string", "an integer", "a float", "a boolean", "a date/time".
std::string_view toml_type_name(const toml::node& node);

}  // namespace pmx::config
