// Helpers shared by the golden-file tests (tests/unit/golden/*/NAME.* + NAME.expected).
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace pmx::test {

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
    return s;
}

}  // namespace pmx::test
