// Golden files for config error messages: tests/unit/golden/config/NAME.toml is loaded on its
// own and the error text (file path replaced by @FILE@) must equal NAME.expected (empty: valid).
// PMX_UPDATE_GOLDEN=1 rewrites the .expected files; review the diff before committing.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"

namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
    return s;
}
}  // namespace

TEST_CASE("config error messages match their golden files") {
    fs::path dir = fs::path(PMX_SOURCE_ROOT) / "tests/unit/golden/config";
    bool update = std::getenv("PMX_UPDATE_GOLDEN") != nullptr;
    int cases = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".toml") continue;
        ++cases;
        auto r = pmx::config::load_files({entry.path()});
        std::string got = r ? "" : replace_all(r.error().message, entry.path().string(), "@FILE@") + "\n";
        auto expected_path = fs::path(entry.path()).replace_extension(".expected");
        if (update) {
            std::ofstream(expected_path) << got;
            continue;
        }
        CAPTURE(entry.path().filename().string());
        CHECK(got == slurp(expected_path));
    }
    CHECK(cases >= 5);
}
