// pmx.toml(5) must document every key of the schema, and nothing that is not one.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config/schema.hpp"

TEST_CASE("pmx.toml(5) lists every schema key") {
    std::ifstream in(std::filesystem::path(PMX_SOURCE_ROOT) / "man/pmx.toml.5.scd");
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();

    // Keys are documented as items: a line holding only "*section.key*".
    std::set<std::string> documented;
    std::regex item(R"(\*([a-z_]+\.[a-z_]+)\*)");
    std::smatch m;
    for (std::string line; std::getline(ss, line);)
        if (std::regex_match(line, m, item)) documented.insert(m[1]);

    for (const auto& k : pmx::config::all_keys()) {
        CAPTURE(std::string(k.name));
        CHECK(documented.count(std::string(k.name)) == 1);
    }
    for (const auto& d : documented) {
        CAPTURE(d);
        CHECK(pmx::config::find_key(d) != nullptr);
    }
}
