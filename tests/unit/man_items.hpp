// The items a man page documents: lines holding only "*group.name*" (config keys in
// pmx.toml(5), methods in pmx-rpc(7)), so tests can hold a page and its table to each other.
#pragma once

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>

namespace pmx::test {

// Empty when the page cannot be read (the caller REQUIREs it is not).
inline std::set<std::string> man_page_items(const std::filesystem::path& source_relative) {
    std::ifstream in(std::filesystem::path(PMX_SOURCE_ROOT) / source_relative);
    std::set<std::string> documented;
    const std::regex item(R"(\*([a-z_]+\.[a-z_]+)\*)");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_match(line, m, item)) documented.insert(m[1]);
    return documented;
}

}  // namespace pmx::test
