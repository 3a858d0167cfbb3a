// Golden files for config error messages: tests/unit/golden/config/NAME.toml is loaded on its
// own and the error text (file path replaced by @FILE@) must equal NAME.expected (empty: valid).
// PMX_UPDATE_GOLDEN=1 rewrites the .expected files; review the diff before committing.
#include <doctest/doctest.h>

#include "golden.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/loader.hpp"

namespace fs = std::filesystem;

using pmx::test::replace_all;
using pmx::test::slurp;

TEST_CASE("config error messages match their golden files") {
    const auto inputs = pmx::test::golden_inputs("config", ".toml");
    for (const auto& input : inputs) {
        auto r = pmx::config::load_files({input});
        std::string got = r ? "" : replace_all(r.error().message, input.string(), "@FILE@") + "\n";
        pmx::test::check_golden(input, got);
    }
    CHECK(inputs.size() >= 5);
}
