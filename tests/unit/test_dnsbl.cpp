// Unit tests: dnsbl (zone syntax, query names, answer matching, the cache, settings from config).
// The lookups themselves run against a real DNS server in tests/integration/test_dnsbl.sh.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "config/loader.hpp"
#include "spam/dnsbl/dnsbl.hpp"

using namespace pmx::spam::dnsbl;
using namespace std::chrono_literals;

namespace {
constexpr std::uint32_t ip(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }
}  // namespace

TEST_CASE("dnsbl: zone entries parse into rules with scores") {
    auto z = parse_zone("zen.Example.test.=127.0.0.2:SBL:3.0, 127.0.0.4-127.0.0.7:xbl:2.5,&0x0c:bits:+1,any:ZEN:-0.5",
                        ZoneKind::Ip);
    REQUIRE(z.ok());
    CHECK(z->name == "zen.example.test");
    REQUIRE(z->matches.size() == 4);
    CHECK(z->matches[0].kind == Match::Kind::Exact);
    CHECK(z->matches[0].rule == "RCVD_IN_SBL");
    CHECK(z->matches[0].score == 3.0);
    CHECK(z->matches[1].kind == Match::Kind::Range);
    CHECK(z->matches[1].label == "XBL");
    CHECK(z->matches[1].score == 2.5);
    CHECK(z->matches[2].kind == Match::Kind::Mask);
    CHECK(z->matches[2].mask == 12);
    CHECK(z->matches[2].score == 1.0);
    CHECK(z->matches[3].kind == Match::Kind::Any);
    CHECK(z->matches[3].score == -0.5);

    auto u = parse_zone("dbl.example.test=127.0.1.2-127.0.1.99:DBL:2.5", ZoneKind::Uri);
    REQUIRE(u.ok());
    CHECK(u->matches[0].rule == "URIBL_DBL");
    auto d = parse_zone("multi.uribl.test=&2:BLACK:3", ZoneKind::Uri);
    REQUIRE(d.ok());
    CHECK(d->matches[0].mask == 2);
}

TEST_CASE("dnsbl: bad zone entries say what is wrong") {
    auto error = [](std::string_view entry) {
        auto z = parse_zone(entry, ZoneKind::Ip);
        REQUIRE_FALSE(z.ok());
        return z.error().message;
    };
    CHECK(error("zen.test").find("expected ZONE=MATCH:LABEL:SCORE") != std::string::npos);
    CHECK(error("zen.test=").find("no MATCH:LABEL:SCORE") != std::string::npos);
    CHECK(error("zen..test=127.0.0.2:SBL:3").find("is not a DNS name") != std::string::npos);
    CHECK(error("zen test=127.0.0.2:SBL:3").find("is not a DNS name") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2:SBL").find("LABEL or SCORE is missing") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2").find("expected MATCH:LABEL:SCORE") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2:SBL:high").find("SCORE \"high\" is not a number") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2:SBL:1e9").find("is not a number from -1000 to 1000") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2:S-BL:3").find("LABEL \"S-BL\" may hold only") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2::3").find("LABEL is empty") != std::string::npos);
    CHECK(error("zen.test=127.0.0.300:SBL:3").find("bad answer \"127.0.0.300\"") != std::string::npos);
    CHECK(error("zen.test=10.0.0.2:SBL:3").find("outside 127.0.0.0/8") != std::string::npos);
    CHECK(error("zen.test=127.0.0.7-127.0.0.4:SBL:3").find("ends before it starts") != std::string::npos);
    CHECK(error("zen.test=&0:SBL:3").find("bad bitmask") != std::string::npos);
    CHECK(error("zen.test=&256:SBL:3").find("bad bitmask") != std::string::npos);
    CHECK(error("zen.test=&0xzz:SBL:3").find("bad bitmask") != std::string::npos);
    CHECK(error("zen.test=127.0.0.2:SBL:3,,127.0.0.3:X:1").find("empty item between commas") != std::string::npos);
    // The bad item is quoted, so a long entry still points at its mistake.
    CHECK(error("zen.test=127.0.0.2:SBL:3,127.0.0.3:PBL").find("\"127.0.0.3:PBL\"") != std::string::npos);
}

TEST_CASE("dnsbl: answers match exactly, by range, by bitmask or any listing code") {
    auto z = parse_zone("z.test=127.0.0.2:A:1,127.0.0.4-127.0.0.7:B:1,&0x08:C:1,any:D:1", ZoneKind::Ip);
    REQUIRE(z.ok());
    const auto& m = z->matches;
    CHECK(m[0].matches(ip(127, 0, 0, 2)));
    CHECK_FALSE(m[0].matches(ip(127, 0, 0, 3)));
    CHECK(m[1].matches(ip(127, 0, 0, 4)));
    CHECK(m[1].matches(ip(127, 0, 0, 7)));
    CHECK_FALSE(m[1].matches(ip(127, 0, 0, 8)));
    CHECK(m[2].matches(ip(127, 0, 0, 8)));
    CHECK(m[2].matches(ip(127, 0, 0, 14)));
    CHECK_FALSE(m[2].matches(ip(127, 0, 0, 4)));
    CHECK_FALSE(m[2].matches(ip(127, 0, 1, 8)));   // bits count only in 127.0.0.X
    CHECK(m[3].matches(ip(127, 0, 1, 2)));
    CHECK_FALSE(m[3].matches(ip(127, 255, 255, 254)));  // Spamhaus: "query refused", not a listing
    // Nothing outside 127/8 ever matches: a resolver that answers NXDOMAIN with an ad server.
    for (const auto& x : m) CHECK_FALSE(x.matches(ip(192, 0, 2, 8)));
}

TEST_CASE("dnsbl: client addresses are reversed by octet and by nibble") {
    CHECK(reversed_ip("127.0.0.2") == "2.0.0.127");
    CHECK(reversed_ip("192.0.2.10") == "10.2.0.192");
    CHECK(reversed_ip("[192.0.2.10]") == "10.2.0.192");
    CHECK(reversed_ip("::ffff:192.0.2.10") == "10.2.0.192");
    CHECK(reversed_ip("2001:db8::1") ==
          "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2");
    CHECK(reversed_ip("IPv6:2001:db8::1").has_value());
    CHECK_FALSE(reversed_ip("example.test").has_value());
    CHECK_FALSE(reversed_ip("").has_value());
    CHECK_FALSE(reversed_ip("1.2.3").has_value());
}

TEST_CASE("dnsbl: URI hosts are looked up by registered domain and full host") {
    CHECK(registered_domain("www.Evil.example.") == "evil.example");
    CHECK(registered_domain("a.b.evil.test") == "evil.test");
    CHECK(registered_domain("evil.test") == "evil.test");
    CHECK(registered_domain("shop.evil.co.uk") == "evil.co.uk");
    CHECK(registered_domain("evil.co.uk") == "evil.co.uk");
    CHECK_FALSE(registered_domain("co.uk").has_value());
    CHECK_FALSE(registered_domain("localhost").has_value());
    CHECK_FALSE(registered_domain("bad host.test").has_value());
    CHECK_FALSE(registered_domain("a..test").has_value());
    CHECK_FALSE(registered_domain(std::string(64, 'a') + ".test").has_value());

    CHECK(uri_lookup_names("a.b.evil.test") == std::vector<std::string>{"evil.test", "a.b.evil.test"});
    CHECK(uri_lookup_names("EVIL.test") == std::vector<std::string>{"evil.test"});
    CHECK(uri_lookup_names("192.0.2.7") == std::vector<std::string>{"7.2.0.192"});
    CHECK(uri_lookup_names("2001:db8::1").empty());
    CHECK(uri_lookup_names("").empty());
    // However deep the host, two names at most.
    std::string deep;
    for (int i = 0; i < 50; ++i) deep += "x.";
    CHECK(uri_lookup_names(deep + "evil.test").size() == 2);
}

TEST_CASE("dnsbl: nameservers are IP addresses with an optional port") {
    CHECK(*normalize_nameserver("127.0.0.1") == "127.0.0.1:53");
    CHECK(*normalize_nameserver("127.0.0.1:15353") == "127.0.0.1:15353");
    CHECK(*normalize_nameserver("::1") == "[::1]:53");
    CHECK(*normalize_nameserver("[::1]:5353") == "[::1]:5353");
    CHECK(normalize_nameserver("dns.example:53").error().message.find("not an IP address") != std::string::npos);
    CHECK(normalize_nameserver("127.0.0.1:0").error().message.find("bad port") != std::string::npos);
    CHECK(normalize_nameserver("127.0.0.1:").error().message.find("empty port") != std::string::npos);
    CHECK(normalize_nameserver("[::1").error().message.find("missing ']'") != std::string::npos);
}

TEST_CASE("dnsbl: the cache keeps answers for their TTL, bounded, and drops the least recently used") {
    using Clock = Cache::Clock;
    auto t0 = Clock::time_point{} + 1000s;
    Cache cache(2, 300s);
    cache.store("2.0.0.127.zen.test", {ip(127, 0, 0, 2)}, 60s, t0);
    cache.store("3.0.0.127.zen.test", {}, 0s, t0);  // negative: kept for the bound
    REQUIRE(cache.find("2.0.0.127.zen.test", t0 + 59s).has_value());
    CHECK(*cache.find("2.0.0.127.zen.test", t0 + 59s) == std::vector<std::uint32_t>{ip(127, 0, 0, 2)});
    CHECK_FALSE(cache.find("2.0.0.127.zen.test", t0 + 60s).has_value());  // the DNS TTL ran out
    REQUIRE(cache.find("3.0.0.127.zen.test", t0 + 299s).has_value());
    CHECK(cache.find("3.0.0.127.zen.test", t0 + 299s)->empty());
    CHECK_FALSE(cache.find("3.0.0.127.zen.test", t0 + 300s).has_value());
    CHECK(cache.size() == 0);  // expired entries go when found

    // A long DNS TTL is cut to the bound.
    cache.store("a", {ip(127, 0, 0, 2)}, 86400s, t0);
    CHECK(cache.find("a", t0 + 299s).has_value());
    CHECK_FALSE(cache.find("a", t0 + 301s).has_value());

    // Capacity 2: using "a" makes "b" the oldest, so "c" pushes out "b".
    cache.store("a", {}, 0s, t0);
    cache.store("b", {}, 0s, t0);
    CHECK(cache.find("a", t0).has_value());
    cache.store("c", {}, 0s, t0);
    CHECK(cache.size() == 2);
    CHECK(cache.find("a", t0).has_value());
    CHECK_FALSE(cache.find("b", t0).has_value());
    CHECK(cache.find("c", t0).has_value());

    Cache off(0, 300s);
    off.store("a", {}, 0s, t0);
    CHECK(off.size() == 0);
    Cache no_ttl(10, 0s);
    no_ttl.store("a", {}, 0s, t0);
    CHECK(no_ttl.size() == 0);
}

TEST_CASE("dnsbl: the cache is safe to share between threads") {
    Cache cache(64, 300s);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            auto now = Cache::Clock::now();
            for (int i = 0; i < 2000; ++i) {
                auto name = std::to_string((i * 7 + t) % 100);
                cache.store(name, {ip(127, 0, 0, 2)}, 60s, now);
                (void)cache.find(std::to_string(i % 100), now);
            }
        });
    for (auto& th : threads) th.join();
    CHECK(cache.size() <= 64);
}

TEST_CASE("dnsbl: answers from the cache score without a DNS server") {
    Settings s;
    s.ip_zones.push_back(*parse_zone("zen.test=127.0.0.2:SBL:3.0,127.0.0.4-127.0.0.7:XBL:2.5", ZoneKind::Ip));
    s.uri_zones.push_back(*parse_zone("dbl.test=127.0.1.2:DBL:2.5", ZoneKind::Uri));
    s.nameservers = {"127.0.0.1:9"};  // never asked: everything below is cached
    Checker checker(s);
    auto now = Cache::Clock::now();
    checker.cache()->store("2.0.0.127.zen.test", {ip(127, 0, 0, 2), ip(127, 0, 0, 4)}, 60s, now);
    checker.cache()->store("evil.test.dbl.test", {ip(127, 0, 1, 2)}, 60s, now);
    checker.cache()->store("www.evil.test.dbl.test", {}, 60s, now);
    checker.cache()->store("good.test.dbl.test", {}, 60s, now);

    auto report = checker.run("127.0.0.2", {"www.evil.test", "good.test", "WWW.EVIL.TEST"}, 1000ms);
    REQUIRE(report.hits.size() == 3);
    CHECK(report.hits[0] == pmx::spam::Hit{"RCVD_IN_SBL", 3.0, "client 127.0.0.2 listed in zen.test (127.0.0.2: SBL)"});
    CHECK(report.hits[1] == pmx::spam::Hit{"RCVD_IN_XBL", 2.5, "client 127.0.0.2 listed in zen.test (127.0.0.4: XBL)"});
    CHECK(report.hits[2] ==
          pmx::spam::Hit{"URIBL_DBL", 2.5, "URI host evil.test listed in dbl.test (127.0.1.2: DBL)"});
    REQUIRE(report.lookups.size() == 4);  // the repeated host is asked once
    CHECK(report.lookups[0].cached);
    CHECK(report.lookups[0].status == Lookup::Status::Listed);
    CHECK(report.lookups[2].query == "www.evil.test.dbl.test");
    CHECK(report.lookups[2].status == Lookup::Status::NotListed);

    // Disabled: nothing, even with answers at hand.
    s.enabled = false;
    Checker disabled(s, checker.cache());
    CHECK(disabled.cache() == checker.cache());  // shared across a reload
    CHECK(disabled.check("127.0.0.2", {}, 1000ms).empty());
    s.cache_ttl = 60s;
    CHECK(Checker(s, checker.cache()).cache() != checker.cache());  // new bounds: a new cache
}

TEST_CASE("dnsbl: max_uri_hosts caps the hosts looked up") {
    Settings s;
    s.uri_zones.push_back(*parse_zone("dbl.test=any:DBL:1", ZoneKind::Uri));
    s.max_uri_hosts = 2;
    Checker checker(s);
    auto now = Cache::Clock::now();
    for (auto n : {"a.test", "b.test", "c.test"}) checker.cache()->store(std::string(n) + ".dbl.test", {}, 60s, now);
    auto report = checker.run("", {"a.test", "not a host", "b.test", "c.test"}, 100ms);
    REQUIRE(report.lookups.size() == 2);
    CHECK(report.lookups[1].subject == "b.test");
}

TEST_CASE("dnsbl: settings from pmx.toml; errors name file, line, key and entry") {
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / "pmx-test-dnsbl";
    fs::create_directories(dir);
    auto file = dir / "pmx.toml";
    {
        std::ofstream out(file);
        out << "[dnsbl]\n"
               "timeout_ms = 800\n"
               "nameservers = [\"127.0.0.1:15353\"]\n"
               "ip_zones = [\"zen.test=127.0.0.2:SBL:3.0\"]\n"
               "uri_zones = [\"dbl.test=127.0.1.2-127.0.1.99:DBL:2.5\"]\n";
    }
    auto snap = pmx::config::load_files({file});
    REQUIRE(snap.ok());
    auto s = settings_from_config(*snap);
    REQUIRE(s.ok());
    CHECK(s->timeout == 800ms);
    CHECK(s->nameservers == std::vector<std::string>{"127.0.0.1:15353"});
    REQUIRE(s->ip_zones.size() == 1);
    CHECK(s->ip_zones[0].name == "zen.test");
    REQUIRE(s->uri_zones.size() == 1);
    CHECK(s->uri_zones[0].matches[0].rule == "URIBL_DBL");

    {
        std::ofstream out(file);
        out << "[dnsbl]\n"
               "nameservers = [\"dns.example\"]\n"
               "ip_zones = [\"zen.test=127.0.0.2:SBL\", \"zen.test=any:Z:1\", \"zen.test=any:Z:1\"]\n";
    }
    snap = pmx::config::load_files({file});
    REQUIRE(snap.ok());
    s = settings_from_config(*snap);
    REQUIRE_FALSE(s.ok());
    const auto& e = s.error().message;
    CAPTURE(e);
    CHECK(e.find(file.string() + ":2:") != std::string::npos);
    CHECK(e.find("dnsbl.nameservers: entry \"dns.example\": ") != std::string::npos);
    CHECK(e.find(file.string() + ":3:") != std::string::npos);
    CHECK(e.find("dnsbl.ip_zones: entry \"zen.test=127.0.0.2:SBL\": zone zen.test: ") != std::string::npos);
    CHECK(e.find("zone zen.test is listed twice") != std::string::npos);
    fs::remove_all(dir);

    auto defaults = settings_from_config(*pmx::config::load_files({}));
    REQUIRE(defaults.ok());
    CHECK(defaults->enabled);
    CHECK_FALSE(defaults->has_zones());
    CHECK(defaults->timeout == 1500ms);
}
