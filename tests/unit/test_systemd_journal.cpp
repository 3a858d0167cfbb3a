// format_short_line: journalctl's short output, without the host name.
#include <doctest/doctest.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "systemd/journal.hpp"

using pmx::systemd::format_short_line;

namespace {
// 2026-11-25 07:01:02 UTC
constexpr std::uint64_t kStamp = 1795590062ULL * 1000000ULL + 123456;

struct UtcZone {
    std::string old;
    bool had = false;
    UtcZone() {
        if (const char* tz = std::getenv("TZ")) { old = tz; had = true; }
        setenv("TZ", "UTC", 1);
        tzset();
    }
    ~UtcZone() {
        if (had) setenv("TZ", old.c_str(), 1);
        else unsetenv("TZ");
        tzset();
    }
};
}  // namespace

TEST_CASE("format_short_line: identifier, pid, message") {
    UtcZone utc;
    CHECK(format_short_line(kStamp, "pmx-milter", "123", "Ready") == "Nov 25 07:01:02 pmx-milter[123]: Ready");
    CHECK(format_short_line(kStamp, "systemd", "", "Started x.") == "Nov 25 07:01:02 systemd: Started x.");
}

TEST_CASE("format_short_line: trailing newlines go, further lines are indented under the first") {
    UtcZone utc;
    CHECK(format_short_line(kStamp, "sh", "7", "one\n") == "Nov 25 07:01:02 sh[7]: one");
    CHECK(format_short_line(kStamp, "sh", "7", "one\ntwo") ==
          "Nov 25 07:01:02 sh[7]: one\n                       two");
}

TEST_CASE("format_short_line: control bytes make it a blob") {
    UtcZone utc;
    std::string msg("a\0b\x01", 4);
    CHECK(format_short_line(kStamp, "x", "1", msg) == "Nov 25 07:01:02 x[1]: [4 bytes blob data]");
    CHECK(format_short_line(kStamp, "x", "1", "tab\tok") == "Nov 25 07:01:02 x[1]: tab\tok");
}
