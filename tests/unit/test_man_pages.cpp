// pmx.toml(5) must document every key of the schema, and nothing that is not one.
#include <doctest/doctest.h>

#include <string>

#include "config/schema.hpp"
#include "man_items.hpp"

TEST_CASE("pmx.toml(5) lists every schema key") {
    // Keys are documented as items: a line holding only "*section.key*".
    const auto documented = pmx::test::man_page_items("man/pmx.toml.5.scd");
    REQUIRE(!documented.empty());

    for (const auto& k : pmx::config::all_keys()) {
        CAPTURE(std::string(k.name));
        CHECK(documented.count(std::string(k.name)) == 1);
    }
    for (const auto& d : documented) {
        CAPTURE(d);
        CHECK(pmx::config::find_key(d) != nullptr);
    }
}
