// Helpers shared by the golden-file tests (tests/unit/golden/*/NAME.* + NAME.expected).
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

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

// The inputs of one golden set, tests/unit/golden/SUBDIR/*EXTENSION, sorted by name.
inline std::vector<std::filesystem::path> golden_inputs(const std::string& subdir, const std::string& extension) {
    std::vector<std::filesystem::path> out;
    for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(PMX_SOURCE_ROOT) /
                                                                 "tests/unit/golden" / subdir))
        if (entry.path().extension() == extension) out.push_back(entry.path());
    std::sort(out.begin(), out.end());
    return out;
}

// Checks `got` against INPUT's .expected file beside it; with PMX_UPDATE_GOLDEN=1 in the
// environment, writes it instead (review the diff before committing).
inline void check_golden(const std::filesystem::path& input, const std::string& got) {
    auto expected_path = std::filesystem::path(input).replace_extension(".expected");
    if (std::getenv("PMX_UPDATE_GOLDEN")) {
        std::ofstream(expected_path, std::ios::binary) << got;
        return;
    }
    CAPTURE(input.filename().string());
    CHECK(got == slurp(expected_path));
}

}  // namespace pmx::test
