// Allow/block list patterns (lib/store/list_match.hpp): tables of pattern, input, expected;
// CompiledList answers as the single-pattern functions do, and as the policy's reference
// implementation (policy::MemoryLists over address_match.hpp) does. Also the time arguments.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "policy/memory_lists.hpp"
#include "store/list_match.hpp"
#include "store/time_filter.hpp"

using namespace pmx::store;
using pmx::policy::ListKind;

namespace {

struct NormCase {
    EntryType type;
    const char* input;
    const char* expected;  // nullptr: an error
};

const NormCase norm_cases[] = {
    {EntryType::Sender, "User@Example.COM", "user@example.com"},
    {EntryType::Sender, "<user@example.com>", "user@example.com"},
    {EntryType::Sender, "@Example.com", "example.com"},
    {EntryType::Sender, "@.example.com", ".example.com"},
    {EntryType::Sender, "example.com.", "example.com"},
    {EntryType::Sender, "*@SPAM.example", "*@spam.example"},
    {EntryType::Sender, "news-*@*", "news-*@*"},
    {EntryType::Sender, "Postmaster@", "postmaster@"},
    {EntryType::Sender, "<>", "<>"},
    {EntryType::Sender, "  x@y.example ", "x@y.example"},
    {EntryType::Sender, "", nullptr},
    {EntryType::Sender, "@", nullptr},
    {EntryType::Sender, "a@b@c.example", nullptr},
    {EntryType::Sender, "two words@x.example", nullptr},
    {EntryType::Sender, "x@exa!mple.com", nullptr},
    {EntryType::Sender, "#x@y.example", nullptr},
    {EntryType::Sender, "news-*@", nullptr},
    {EntryType::Sender, "..example.com", nullptr},
    {EntryType::Host, "192.0.2.7", "192.0.2.7"},
    {EntryType::Host, "192.0.2.7/32", "192.0.2.7"},
    {EntryType::Host, "192.0.2.7/24", "192.0.2.0/24"},
    {EntryType::Host, "[192.0.2.7]", "192.0.2.7"},
    {EntryType::Host, "2001:DB8:0:0::1", "2001:db8::1"},
    {EntryType::Host, "2001:db8::1/32", "2001:db8::/32"},
    {EntryType::Host, "::ffff:192.0.2.7", "192.0.2.7"},
    {EntryType::Host, "::ffff:192.0.2.0/120", "192.0.2.0/24"},
    {EntryType::Host, "0.0.0.0/0", "0.0.0.0/0"},
    {EntryType::Host, "MX.Example.com.", "mx.example.com"},
    {EntryType::Host, ".example.com", ".example.com"},
    {EntryType::Host, "*.example.com", "*.example.com"},
    {EntryType::Host, "unknown", "unknown"},
    {EntryType::Host, "192.0.2.300", nullptr},
    {EntryType::Host, "192.0.2.0/33", nullptr},
    {EntryType::Host, "2001:db8::/129", nullptr},
    {EntryType::Host, "10.1/8", nullptr},
    {EntryType::Host, "user@example.com", nullptr},
    {EntryType::Host, "bad_host!.example", nullptr},
};

struct SenderCase {
    const char* pattern;
    const char* sender;
    bool expected;
};

const SenderCase sender_cases[] = {
    {"user@example.com", "user@example.com", true},
    {"user@example.com", "USER@Example.Com", true},
    {"user@example.com", "<user@example.com>", true},
    {"user@example.com", "other@example.com", false},
    {"user@example.com", "user@example.com.evil", false},
    {"example.com", "anyone@example.com", true},
    {"example.com", "anyone@sub.example.com", false},
    {"example.com", "anyone@notexample.com", false},
    {".example.com", "anyone@example.com", true},
    {".example.com", "anyone@sub.example.com", true},
    {".example.com", "anyone@a.b.example.com", true},
    {".example.com", "anyone@notexample.com", false},
    {"*@spam.example", "x@spam.example", true},
    {"*@spam.example", "x@sub.spam.example", false},
    {"*@*.spam.example", "x@sub.spam.example", true},
    {"*@*.spam.example", "x@a.b.spam.example", true},
    {"*@*.spam.example", "x@spam.example", false},
    {"*@*.spam.example", "x@notspam.example", false},
    {"news-*@*", "news-daily@shop.example", true},
    {"news-*@*", "news@shop.example", false},
    {"n?ws@*", "nEws@x.example", true},
    {"*.example.com", "x@mail.example.com", true},   // no "@": the wildcard is on the domain
    {"*.example.com", "x@example.com", false},
    {"*.example.com", "x@a.b.example.com", true},
    {"*.example.com", "x@badexample.com", false},
    {"*.example.com", "mail.example.com@other.org", false},
    {"postmaster@", "postmaster@anywhere.example", true},
    {"postmaster@", "PostMaster@x.example", true},
    {"postmaster@", "postmaster2@x.example", false},
    {"<>", "", true},
    {"<>", "<>", true},
    {"<>", "x@y.example", false},
    {"*@*", "", false},  // nothing but <> matches the null sender
    {"example.com", "", false},
    {"example.com", "localonly", false},
};

struct HostCase {
    const char* pattern;
    const char* ip;
    const char* hostname;
    bool expected;
};

const HostCase host_cases[] = {
    {"192.0.2.7", "192.0.2.7", "", true},
    {"192.0.2.7", "192.0.2.8", "", false},
    {"192.0.2.0/24", "192.0.2.255", "", true},
    {"192.0.2.0/24", "192.0.3.0", "", false},
    {"192.0.2.0/24", "::ffff:192.0.2.9", "", true},
    {"192.0.2.0/24", "IPv6:::ffff:192.0.2.9", "", true},
    {"0.0.0.0/0", "203.0.113.1", "", true},
    {"0.0.0.0/0", "2001:db8::1", "", false},
    {"2001:db8::/32", "2001:db8:ffff::1", "", true},
    {"2001:db8::/32", "IPv6:2001:db8::1", "", true},
    {"2001:db8::/32", "[2001:db8::1]", "", true},
    {"2001:db8::/32", "2001:db9::1", "", false},
    {"2001:db8::1", "2001:0db8:0000::0001", "", true},
    {"2001:db8:0:1::/64", "2001:db8:0:1:ffff::1", "", true},
    {"2001:db8:0:1::/64", "2001:db8:0:2::1", "", false},
    {"2001:db8::1:0/112", "2001:db8::1:abcd", "", true},
    {"fe80::/10", "fe80::1%eth0", "", true},
    {"192.0.2.7", "", "mx.example.com", false},
    {"mx.example.com", "192.0.2.7", "MX.example.com", true},
    {"mx.example.com", "192.0.2.7", "mx.example.com.", true},
    {"mx.example.com", "192.0.2.7", "mx2.example.com", false},
    {".example.com", "192.0.2.7", "example.com", true},
    {".example.com", "192.0.2.7", "a.b.example.com", true},
    {".example.com", "192.0.2.7", "badexample.com", false},
    {"*.example.com", "192.0.2.7", "mx.example.com", true},
    {"*.example.com", "192.0.2.7", "example.com", false},
    {"*.example.com", "192.0.2.7", "a.b.example.com", true},
    {"*.example.com", "192.0.2.7", "badexample.com", false},
    {"mx?.example.*", "192.0.2.7", "mx1.example.net", true},
    {"mx.example.com", "192.0.2.7", "unknown", false},
    {"*", "192.0.2.7", "unknown", false},
    {"*", "192.0.2.7", "", false},
    {"unknown", "192.0.2.7", "unknown", true},
    {"unknown", "192.0.2.7", "", true},
    {"unknown", "192.0.2.7", "[192.0.2.7]", true},
    {"unknown", "192.0.2.7", "mx.example.com", false},
};

std::string normalized(EntryType type, const char* p) {
    auto n = normalize_pattern(type, p);
    REQUIRE_MESSAGE(n.ok(), p);
    return *n;
}

}  // namespace

TEST_CASE("list patterns: normalization and errors") {
    for (const auto& c : norm_cases) {
        std::string input = c.input;
        CAPTURE(input);
        auto n = normalize_pattern(c.type, c.input);
        if (c.expected) {
            REQUIRE_MESSAGE(n.ok(), n.error().message);
            CHECK(*n == c.expected);
            // Normalizing twice changes nothing (what is stored reads back the same).
            CHECK(*normalize_pattern(c.type, *n) == *n);
        } else {
            CHECK(!n.ok());
        }
    }
    auto e = normalize_pattern(EntryType::Host, "192.0.2.0/33");
    CHECK(e.error().message == "\"192.0.2.0/33\" is not a valid IP address or network: the prefix length must be 0 to 32");
}

TEST_CASE("list patterns: sender table, one pattern and compiled alike") {
    for (const auto& c : sender_cases) {
        std::string pattern_text = c.pattern;
        CAPTURE(pattern_text);
        std::string sender_text = c.sender;
        CAPTURE(sender_text);
        auto p = normalized(EntryType::Sender, c.pattern);
        CHECK(sender_matches(p, c.sender) == c.expected);
        CompiledList list;
        REQUIRE(list.add(EntryType::Sender, p));
        CHECK(list.sender_matches(c.sender) == c.expected);
        if (c.expected) CHECK(*list.sender_entry(c.sender) == p);
    }
}

TEST_CASE("list patterns: host table, one pattern and compiled alike") {
    for (const auto& c : host_cases) {
        std::string pattern_text = c.pattern;
        CAPTURE(pattern_text);
        std::string ip_text = c.ip;
        CAPTURE(ip_text);
        std::string hostname_text = c.hostname;
        CAPTURE(hostname_text);
        auto p = normalized(EntryType::Host, c.pattern);
        CHECK(host_matches(p, c.ip, c.hostname) == c.expected);
        CompiledList list;
        REQUIRE(list.add(EntryType::Host, p));
        CHECK(list.host_matches(c.ip, c.hostname) == c.expected);
    }
}

TEST_CASE("list patterns: a compiled list of many answers as its patterns do one by one") {
    CompiledList senders, hosts;
    for (const auto& c : sender_cases) senders.add(EntryType::Sender, normalized(EntryType::Sender, c.pattern));
    for (const auto& c : host_cases) hosts.add(EntryType::Host, normalized(EntryType::Host, c.pattern));
    for (const auto& c : sender_cases) {
        std::string sender_text = c.sender;
        CAPTURE(sender_text);
        bool any = false;
        for (const auto& p : sender_cases) any = any || sender_matches(normalized(EntryType::Sender, p.pattern), c.sender);
        CHECK(senders.sender_matches(c.sender) == any);
    }
    for (const auto& c : host_cases) {
        std::string ip_text = c.ip;
        CAPTURE(ip_text);
        std::string hostname_text = c.hostname;
        CAPTURE(hostname_text);
        bool any = false;
        for (const auto& p : host_cases) any = any || host_matches(normalized(EntryType::Host, p.pattern), c.ip, c.hostname);
        CHECK(hosts.host_matches(c.ip, c.hostname) == any);
    }
    CHECK(senders.size() == std::size(sender_cases));
}

TEST_CASE("list patterns: the same answers as the policy's reference lists (address_match.hpp)") {
    // Inputs the milter passes: addresses without <>, "unknown" for a client without a name.
    for (const auto& c : sender_cases) {
        std::string_view s = c.sender;
        if (s.starts_with('<') && s != "<>") continue;
        if (s == "<>") continue;
        std::string pattern_text = c.pattern;
        CAPTURE(pattern_text);
        std::string sender_text = c.sender;
        CAPTURE(sender_text);
        pmx::policy::MemoryLists reference;
        REQUIRE(reference.add_sender(ListKind::Block, "", c.pattern).ok());
        CompiledList list;
        list.add(EntryType::Sender, normalized(EntryType::Sender, c.pattern));
        CHECK(list.sender_matches(c.sender) == reference.sender_listed(ListKind::Block, "", c.sender));
    }
    for (const auto& c : host_cases) {
        std::string_view host = c.hostname;
        if (host.empty() || host.starts_with('[') || host.ends_with('.')) continue;  // the milter passes "unknown"
        std::string pattern_text = c.pattern;
        CAPTURE(pattern_text);
        std::string ip_text = c.ip;
        CAPTURE(ip_text);
        std::string hostname_text = c.hostname;
        CAPTURE(hostname_text);
        pmx::policy::MemoryLists reference;
        REQUIRE(reference.add_host(ListKind::Block, "", c.pattern).ok());
        CompiledList list;
        list.add(EntryType::Host, normalized(EntryType::Host, c.pattern));
        CHECK(list.host_matches(c.ip, c.hostname) == reference.host_listed(ListKind::Block, "", c.ip, c.hostname));
    }
}

TEST_CASE("list patterns: type inference and descriptions") {
    CHECK(infer_type("x@y.example").type == EntryType::Sender);
    CHECK(infer_type("x@y.example").certain);
    CHECK(infer_type("<>").type == EntryType::Sender);
    CHECK(infer_type("192.0.2.0/24").type == EntryType::Host);
    CHECK(infer_type("2001:db8::1").certain);
    CHECK(infer_type("[192.0.2.1]").type == EntryType::Host);
    CHECK(infer_type("example.com").type == EntryType::Sender);
    CHECK(!infer_type("example.com").certain);
    CHECK(describe_pattern(EntryType::Sender, ".example.com") == "domain and its subdomains");
    CHECK(describe_pattern(EntryType::Sender, "*@x.example") == "address wildcard");
    CHECK(describe_pattern(EntryType::Sender, "postmaster@") == "local part at any domain");
    CHECK(describe_pattern(EntryType::Host, "2001:db8::/32") == "IPv6 network");
    CHECK(describe_pattern(EntryType::Host, "192.0.2.1") == "IPv4 address");
    CHECK(describe_pattern(EntryType::Host, "*.example.com") == "host name wildcard");
    CHECK(glob_match("a*b*c", "axxbyyc"));
    CHECK(!glob_match("a*b*c", "axxbyy"));
    CHECK(glob_match("*", ""));
    CHECK(!glob_match("?", ""));
    CHECK(normalize_client_ip("IPv6:2001:DB8::1") == std::optional<std::string>("2001:db8::1"));
    CHECK(normalize_client_ip("::ffff:192.0.2.1") == std::optional<std::string>("192.0.2.1"));
    CHECK(!normalize_client_ip("unknown").has_value());
}

TEST_CASE("time arguments: dates, date and time, relative, words") {
    const std::int64_t now = 1795600800LL * 1000000 + 123;  // 2026-11-25 07:20:00.000123 UTC
    const std::int64_t s = 1000000;
    CHECK(*parse_time("2026-11-25", now) == 1795564800LL * s);
    CHECK(*parse_time("2026-11-25 10:00", now) == (1795564800LL + 10 * 3600) * s);
    CHECK(*parse_time("2026-11-25T10:00:30Z", now) == (1795564800LL + 10 * 3600 + 30) * s);
    CHECK(*parse_time("2026-11-25 10:00 UTC", now) == (1795564800LL + 10 * 3600) * s);
    CHECK(*parse_time("-2h", now) == now - 2 * 3600 * s);
    CHECK(*parse_time("-3d", now) == now - 3 * 86400 * s);
    CHECK(*parse_time("-30m", now) == now - 30 * 60 * s);
    CHECK(*parse_time("-1w", now) == now - 7 * 86400 * s);
    CHECK(*parse_time("now", now) == now);
    CHECK(*parse_time("today", now) == 1795564800LL * s);
    CHECK(*parse_time("yesterday", now) == (1795564800LL - 86400) * s);
    for (auto bad : {"", "2026-13-01", "2026-02-30", "2026-11-25 25:00", "2026-11-25 10", "-2", "-h", "-2y", "2h",
                     "tomorrow", "2026-11-25x", "-99999999999d"}) {
        CAPTURE(bad);
        auto r = parse_time(bad, now);
        REQUIRE(!r.ok());
        CHECK(r.error().message.find("Invalid time") == 0);
    }
}
