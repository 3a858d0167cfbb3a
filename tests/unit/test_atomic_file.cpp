#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "util/atomic_file.hpp"

TEST_CASE("write_file_atomically replaces content and mode, leaves no temp files") {
    char tmpl[] = "/tmp/pmx-atomic-XXXXXX";
    std::filesystem::path dir = mkdtemp(tmpl);
    auto f = dir / "x.toml";
    REQUIRE(pmx::write_file_atomically(f, "one", 0600).ok());
    REQUIRE(pmx::write_file_atomically(f, "two", 0640).ok());
    CHECK(*pmx::read_file(f) == "two");
    struct stat st {};
    stat(f.c_str(), &st);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK(std::distance(std::filesystem::directory_iterator(dir), {}) == 1);
    CHECK(!pmx::write_file_atomically(dir / "missing-dir/x", "y").ok());
    CHECK(!pmx::read_file(dir / "nope").ok());
    std::filesystem::remove_all(dir);
}
