// Golden files for policy.toml errors and warnings: tests/unit/golden/policy/NAME.toml is compiled
// and the result (file path replaced by @FILE@) must equal NAME.expected: the errors when it fails,
// else "OK: N rules" and the warnings. PMX_UPDATE_GOLDEN=1 rewrites the .expected files; review
// the diff before committing.
#include <doctest/doctest.h>

#include "golden.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/engine.hpp"

namespace fs = std::filesystem;

using pmx::test::replace_all;
using pmx::test::slurp;

TEST_CASE("policy errors and warnings match their golden files") {
    const auto inputs = pmx::test::golden_inputs("policy", ".toml");
    for (const auto& input : inputs) {
        auto p = pmx::policy::load_policy_file(input);
        std::string got;
        if (!p) {
            got = p.error().message + "\n";
        } else {
            got = "OK: " + std::to_string(p->rule_count()) + " rules\n";
            for (const auto& w : p->warnings()) got += w + "\n";
        }
        got = replace_all(got, input.string(), "@FILE@");
        pmx::test::check_golden(input, got);
    }
    CHECK(inputs.size() >= 8);
}
