// Unit tests: ipblock (addresses, the compiled lookup, list files, the decision, dynamic
// blocking's counting, the block store, and the policy protocol codec).
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "ipblock/address.hpp"
#include "ipblock/block_store.hpp"
#include "ipblock/lists.hpp"
#include "ipblock/matcher.hpp"
#include "ipblock/policy_protocol.hpp"
#include "ipblock/tracker.hpp"
#include "store/database.hpp"

using namespace pmx::ipblock;

namespace {

Address ip(const char* text) {
    auto a = parse_address(text);
    REQUIRE_MESSAGE(a.has_value(), text);
    return *a;
}

Network net(const char* text) {
    auto n = parse_network(text);
    REQUIRE_MESSAGE(n.ok(), text);
    return *n;
}

// Which item (line) the most specific match carries, or 0.
std::uint32_t item_of(const Matcher& m, const char* a) {
    const auto* e = m.find(ip(a));
    return e ? e->item : 0;
}

}  // namespace

TEST_CASE("ipblock addresses: IPv4, IPv6, mapped, and what is refused") {
    CHECK(format_address(ip("192.0.2.1")) == "192.0.2.1");
    CHECK(ip("192.0.2.1").v4);
    CHECK(ip("::ffff:192.0.2.1") == ip("192.0.2.1"));
    CHECK(format_address(ip("2001:DB8::1")) == "2001:db8::1");
    CHECK_FALSE(ip("2001:db8::1").v4);
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "a.b.c.d", "1..2.3", "2001:db8::1%eth0",
                            "::g", "1.2.3.0004"})
        CHECK_MESSAGE(!parse_address(bad).has_value(), bad);
}

TEST_CASE("ipblock networks: canonical text, host bits, prefix limits") {
    CHECK(format_network(net("198.51.100.0/24")) == "198.51.100.0/24");
    CHECK(format_network(net("198.51.100.7/32")) == "198.51.100.7");
    CHECK(format_network(net("2001:db8::/32")) == "2001:db8::/32");
    CHECK(format_network(net("::ffff:10.0.0.0/104")) == "10.0.0.0/8");
    CHECK(format_network(net("0.0.0.0/0")) == "0.0.0.0/0");
    auto hostbits = parse_network("192.0.2.1/24");
    REQUIRE_FALSE(hostbits.ok());
    CHECK(hostbits.error().message.find("the network is 192.0.2.0/24") != std::string::npos);
    CHECK_FALSE(parse_network("192.0.2.0/33").ok());
    CHECK_FALSE(parse_network("2001:db8::/129").ok());
    CHECK_FALSE(parse_network("192.0.2.0/").ok());
    CHECK_FALSE(parse_network("192.0.2.0/x").ok());
    CHECK(net("10.0.0.0/8").contains(ip("10.255.1.2")));
    CHECK_FALSE(net("10.0.0.0/8").contains(ip("11.0.0.0")));
    CHECK_FALSE(net("10.0.0.0/8").contains(ip("::a00:1")));  // families never mix
}

TEST_CASE("ipblock matcher: the most specific of nested networks wins, gaps match nothing") {
    Matcher::Builder b;
    b.add(net("10.0.0.0/8"), 1, 0);
    b.add(net("10.1.0.0/16"), 2, 0);
    b.add(net("10.1.2.0/24"), 3, 0);
    b.add(net("10.1.2.3"), 4, 0);
    b.add(net("10.1.0.0/16"), 5, 0);  // duplicate: the first one stays
    b.add(net("192.0.2.0/24"), 6, 0);
    b.add(net("0.0.0.0/1"), 7, 0);    // covers 10/8 too
    b.add(net("255.255.255.255"), 8, 0);
    auto m = b.build();
    CHECK(m.duplicates() == 1);
    CHECK(m.size() == 7);
    CHECK(item_of(m, "10.1.2.3") == 4);
    CHECK(item_of(m, "10.1.2.4") == 3);
    CHECK(item_of(m, "10.1.3.0") == 2);
    CHECK(item_of(m, "10.2.0.0") == 1);
    CHECK(item_of(m, "10.255.255.255") == 1);
    CHECK(item_of(m, "11.0.0.0") == 7);
    CHECK(item_of(m, "9.255.255.255") == 7);
    CHECK(item_of(m, "0.0.0.0") == 7);
    CHECK(item_of(m, "128.0.0.0") == 0);
    CHECK(item_of(m, "192.0.2.255") == 6);
    CHECK(item_of(m, "192.0.3.0") == 0);
    CHECK(item_of(m, "255.255.255.255") == 8);
    CHECK(item_of(m, "255.255.255.254") == 0);
    CHECK(item_of(m, "::a01:203") == 0);  // IPv6 never matches IPv4 entries
    const auto* e = m.find(ip("10.1.2.9"));
    REQUIRE(e);
    CHECK(format_network(m.network_of(ip("10.1.2.9"), *e)) == "10.1.2.0/24");
}

TEST_CASE("ipblock matcher: IPv6 networks, the whole space, the last address") {
    Matcher::Builder b;
    b.add(net("::/0"), 1, 0);
    b.add(net("2001:db8::/32"), 2, 0);
    b.add(net("2001:db8:0:1::/64"), 3, 0);
    b.add(net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124"), 4, 0);
    b.add(net("2001:db9::/32"), 5, 0);  // adjacent to 2001:db8::/32
    auto m = b.build();
    CHECK(item_of(m, "::1") == 1);
    CHECK(item_of(m, "2001:db8::1") == 2);
    CHECK(item_of(m, "2001:db8:0:1:ffff::1") == 3);
    CHECK(item_of(m, "2001:db8:0:2::") == 2);
    CHECK(item_of(m, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff") == 2);
    CHECK(item_of(m, "2001:db9::") == 5);
    CHECK(item_of(m, "2001:dba::") == 1);
    CHECK(item_of(m, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == 4);
    CHECK(item_of(m, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffef") == 1);
    CHECK(item_of(m, "192.0.2.1") == 0);
}

TEST_CASE("ipblock matcher agrees with a linear scan on random nested networks") {
    std::mt19937 rng(42);
    std::vector<Network> nets;
    Matcher::Builder b;
    for (std::uint32_t i = 1; i <= 3000; ++i) {
        std::uint32_t v = rng() & 0x0fffffffu;  // crowded: many overlaps
        int prefix = 4 + static_cast<int>(rng() % 29);
        auto n = network_of(Address{U128{0, 0x0000ffff00000000ULL | v}, true}, prefix);
        nets.push_back(n);
        b.add(n, i, 0);
    }
    auto m = b.build();
    for (int k = 0; k < 20000; ++k) {
        std::uint32_t v = rng() & 0x0fffffffu;
        Address a{U128{0, 0x0000ffff00000000ULL | v}, true};
        std::uint32_t want = 0;
        int best = -1;
        for (std::size_t i = 0; i < nets.size(); ++i)
            if (nets[i].contains(a) && nets[i].prefix > best) {
                best = nets[i].prefix;
                want = static_cast<std::uint32_t>(i + 1);
            }
        const auto* e = m.find(a);
        std::uint32_t got = e ? e->item : 0;
        // Same network may be listed twice: compare the networks, not the line.
        if (got != want) {
            REQUIRE(e);
            REQUIRE(want);
            CHECK(nets[got - 1] == nets[want - 1]);
        }
    }
}

TEST_CASE("ipblock list files: comments, errors with file:line, 1M entries") {
    Matcher::Builder b;
    std::vector<ListProblem> problems;
    std::size_t skipped = 0;
    parse_list_text("# spam sources\n192.0.2.0/24   # test net\n\n  2001:db8::/32\n198.51.100.1/24\n"
                    "203.0.113.5 extra\n; semicolon comment\n203.0.113.9 ; SBL123\nnot-an-ip\n",
                    "bad.txt", 0, b, problems, 10, skipped);
    auto m = b.build();
    CHECK(m.size() == 3);
    CHECK(skipped == 3);
    REQUIRE(problems.size() == 3);
    CHECK(problems[0].describe().starts_with("bad.txt:5: \"198.51.100.1/24\" has host bits set"));
    CHECK(problems[1].describe().starts_with("bad.txt:6: one address or network per line"));
    CHECK(problems[2].describe().starts_with("bad.txt:9: \"not-an-ip\" is not an IPv4 or IPv6 address"));
    CHECK(item_of(m, "192.0.2.77") == 2);
    CHECK(item_of(m, "2001:db8::5") == 4);
    CHECK(item_of(m, "203.0.113.9") == 8);

    // 1M distinct /32 and /24 entries (no timing asserts here: bench/ipblock-bench measures).
    std::string big;
    big.reserve(20'000'000);
    for (std::uint32_t i = 0; i < 1'000'000; ++i) {
        std::uint32_t v = 0x0b000000u + i * 7;  // 11.0.0.0 upwards, spread out
        if (i % 10 == 0) big += fmt::format("{}.{}.{}.0/24\n", 100 + (i / 65536) % 100, (i / 256) % 256, i % 256);
        else big += fmt::format("{}.{}.{}.{}\n", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    }
    Matcher::Builder big_b;
    problems.clear();
    skipped = 0;
    parse_list_text(big, "big.txt", 0, big_b, problems, 10, skipped);
    CHECK(skipped == 0);
    auto bm = big_b.build();
    CHECK(bm.size() + bm.duplicates() == 1'000'000);
    CHECK(bm.memory_bytes() < 40u * 1024 * 1024);
    CHECK(item_of(bm, "11.0.0.7") == 2);
    CHECK(item_of(bm, "11.0.0.8") == 0);
}

TEST_CASE("ipblock decision: internal and exceptions win, then database blocks, then list files") {
    auto dir = std::filesystem::temp_directory_path() / ("pmx-ipblock-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "block.txt") << "127.0.0.0/24\n192.0.2.0/24\n2001:db8::/32\n";
    std::ofstream(dir / "except.txt") << "# partner\n192.0.2.10\n";
    ListFiles files{.block = {dir / "block.txt"}, .exception = {dir / "except.txt"},
                    .internal_networks = {"127.0.0.1/32", "::1/128"}};
    std::vector<ListProblem> problems;
    auto lists = load_lists(files, problems);
    REQUIRE(lists.ok());
    CHECK(problems.empty());

    auto v = decide(lists->get(), nullptr, ip("192.0.2.5"), 0);
    CHECK(v.blocked());
    CHECK(v.why == Verdict::Why::ListFile);
    CHECK(v.line == 2);
    CHECK(v.entry == "192.0.2.0/24");
    CHECK(v.reason == "listed in block.txt");
    CHECK(decide(lists->get(), nullptr, ip("192.0.2.10"), 0).why == Verdict::Why::Exception);
    CHECK(decide(lists->get(), nullptr, ip("127.0.0.1"), 0).why == Verdict::Why::Internal);
    CHECK(decide(lists->get(), nullptr, ip("127.0.0.5"), 0).blocked());
    CHECK(decide(lists->get(), nullptr, ip("2001:db8::77"), 0).blocked());
    CHECK(decide(lists->get(), nullptr, ip("198.51.100.1"), 0).why == Verdict::Why::NotListed);

    std::vector<BlockRow> rows = {
        {.network = "198.51.100.0/24", .source = "manual", .reason = "", .added_us = 1, .expires_us = std::nullopt},
        {.network = "203.0.113.7", .source = "dynamic", .reason = "sent 3 spam", .added_us = 1, .expires_us = 1000},
        {.network = "192.0.2.10", .source = "manual", .reason = "x", .added_us = 1, .expires_us = std::nullopt},
        {.network = "203.0.113.8", .source = "dynamic", .reason = "old", .added_us = 1, .expires_us = 50},
    };
    auto db = compile_blocks(rows, 7, 100);
    CHECK(db->rows.size() == 3);  // 203.0.113.8 expired at 50
    REQUIRE(db->next_expiry_us);
    CHECK(*db->next_expiry_us == 1000);
    v = decide(lists->get(), db.get(), ip("198.51.100.9"), 500);
    CHECK(v.why == Verdict::Why::Manual);
    CHECK(v.reason == "blocked by the administrator");
    v = decide(lists->get(), db.get(), ip("203.0.113.7"), 500);
    CHECK(v.why == Verdict::Why::Dynamic);
    CHECK(v.reason == "sent 3 spam");
    CHECK(decide(lists->get(), db.get(), ip("203.0.113.7"), 1000).why == Verdict::Why::NotListed);  // expired
    CHECK(decide(lists->get(), db.get(), ip("192.0.2.10"), 500).why == Verdict::Why::Exception);

    auto missing = load_lists({.block = {dir / "nope.txt"}}, problems);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("nope.txt") != std::string::npos);
    std::filesystem::remove_all(dir);
}

TEST_CASE("ipblock reject text: placeholders, URL template, no line breaks") {
    CHECK(reject_action("5.7.1 Client address {ip} is blocked: {reason}", "", "192.0.2.1", "listed in bad.txt") ==
          "REJECT 5.7.1 Client address 192.0.2.1 is blocked: listed in bad.txt");
    CHECK(reject_action("5.7.1 {ip} blocked, see {url}", "https://example.test/ip?{ip}", "192.0.2.1", "x") ==
          "REJECT 5.7.1 192.0.2.1 blocked, see https://example.test/ip?192.0.2.1");
    CHECK(reject_action("5.7.1 {reason}", "", "1.2.3.4", "evil\r\n\naction=DUNNO") ==
          "REJECT 5.7.1 evil   action=DUNNO");
    CHECK(reject_action("", "", "1.2.3.4", "") == "REJECT");
}

TEST_CASE("ipblock tracker: threshold, ratio, window and the cap") {
    TrackerLimits limits{.threshold = 3, .window_us = 160'000'000, .ratio_percent = 50, .max_tracked = 100};
    Tracker t(limits);
    Address a = ip("192.0.2.1");
    std::int64_t s = 1'000'000'000'000;
    CHECK_FALSE(t.add(a, s, true));
    CHECK_FALSE(t.add(a, s + 1'000'000, true));
    auto hit = t.add(a, s + 2'000'000, true);
    REQUIRE(hit);
    CHECK(hit->spam == 3);
    CHECK(hit->total == 3);
    t.forget(a);
    CHECK(t.count(a, s).total == 0);

    // Three spam among four clean: 3/7 is not more than 50 %.
    Address b = ip("192.0.2.2");
    for (int i = 0; i < 4; ++i) CHECK_FALSE(t.add(b, s + i, false));
    CHECK_FALSE(t.add(b, s + 10, true));
    CHECK_FALSE(t.add(b, s + 11, true));
    CHECK_FALSE(t.add(b, s + 12, true));
    CHECK_FALSE(t.add(b, s + 13, true));  // 4 of 8 is not more than 50 % either
    auto five = t.add(b, s + 14, true);    // 5 of 9 is
    REQUIRE(five);
    CHECK(five->spam == 5);
    CHECK(five->total == 9);
}

TEST_CASE("ipblock tracker: old messages leave the window") {
    TrackerLimits limits{.threshold = 2, .window_us = 160'000'000, .ratio_percent = 0, .max_tracked = 2};
    Tracker t(limits);
    std::int64_t s = 1'000'000'000'000;
    CHECK_FALSE(t.add(ip("192.0.2.1"), s, true));
    CHECK_FALSE(t.add(ip("192.0.2.1"), s + 200'000'000, true));  // the first one is out of the window
    CHECK(t.add(ip("192.0.2.1"), s + 201'000'000, true));
    CHECK_FALSE(t.add(ip("192.0.2.2"), s, true));
    CHECK_FALSE(t.add(ip("192.0.2.3"), s + 201'000'000, true));  // 2 tracked: .2 is stale and pruned
    CHECK(t.tracked() == 2);
    CHECK_FALSE(t.add(ip("192.0.2.4"), s + 201'000'000, true));
    CHECK(t.dropped() == 1);
}

TEST_CASE("ipblock store: blocks, events, and spam facts from the message log") {
    auto path = std::filesystem::temp_directory_path() / ("pmx-ipblock-" + std::to_string(getpid()) + ".db");
    std::filesystem::remove(path);
    {
        auto db = pmx::store::Database::open(path);
        REQUIRE(db.ok());
        auto v0 = block_version(*db);
        REQUIRE(v0.ok());
        REQUIRE(put_block(*db, {.network = "192.0.2.7", .source = "dynamic", .reason = "spam", .added_us = 10,
                                .expires_us = 100, .offenses = 2}).ok());
        REQUIRE(put_block(*db, {.network = "198.51.100.0/24", .source = "manual", .reason = "", .added_us = 20}).ok());
        CHECK(*block_version(*db) > *v0);
        auto active = read_blocks(*db, false, 150);
        REQUIRE(active.ok());
        REQUIRE(active->size() == 1);
        CHECK((*active)[0].network == "198.51.100.0/24");
        CHECK(read_blocks(*db, true, 150)->size() == 2);
        auto found = find_block(*db, "192.0.2.7");
        REQUIRE(found.ok());
        REQUIRE(found->has_value());
        CHECK((**found).offenses == 2);
        CHECK(*remove_block(*db, "198.51.100.0/24", "test"));
        CHECK_FALSE(*remove_block(*db, "198.51.100.0/24", "test"));
        auto ev = count_events(*db, 0);
        REQUIRE(ev.ok());
        CHECK(ev->size() == 3);  // block dynamic, block manual, unblock manual
        auto last = last_events(*db, 0);
        REQUIRE(last.ok());
        CHECK(last->at("192.0.2.7") == 10);
        CHECK(last->at("198.51.100.0/24") > 20);  // the unblock, just now
        CHECK(last_events(*db, pmx::store::now_us() + 1000000)->empty());
        CHECK(*forget_expired(*db, 1000) == 1);

        REQUIRE(db->exec("INSERT INTO message_log (id, time_us, client_ip, score) VALUES "
                         "(1, 5, '192.0.2.1', 1.0), (2, 6, '192.0.2.1', 12.5), (3, 7, '192.0.2.2', NULL);"
                         "INSERT INTO message_log_recipient (log_id, position, recipient, verdict, rule) VALUES "
                         "(1, 0, 'a@x', 'accept', ''), (2, 0, 'a@x', 'accept', ''), "
                         "(3, 0, 'a@x', 'quarantine', 'spam rule'), (3, 1, 'b@x', 'reject', 'other rule'),"
                         "(1, 1, 'b@x', 'quarantine', '')").ok());
        auto facts = read_log_facts(*db, 0, 3, {});
        REQUIRE(facts.ok());
        REQUIRE(facts->size() == 3);
        CHECK_FALSE((*facts)[0].spam);  // quarantine by the default, not a rule
        CHECK_FALSE((*facts)[1].spam);  // the score alone does not count unless asked
        CHECK((*facts)[2].spam);
        facts = read_log_facts(*db, 0, 3, {.rules = {"other rule"}, .min_score = 10});
        CHECK((*facts)[1].spam);
        CHECK((*facts)[2].spam);
        facts = read_log_facts(*db, 0, 3, {.rules = {"nope"}, .min_score = 0});
        CHECK_FALSE((*facts)[2].spam);
        CHECK(*max_log_id(*db) == 3);
        CHECK(*log_id_before(*db, 6) == 1);
        CHECK(*log_id_before(*db, 100) == 3);
    }
    std::filesystem::remove(path);
    std::filesystem::remove(path.string() + "-wal");
    std::filesystem::remove(path.string() + "-shm");
}

TEST_CASE("ipblock policy codec: a request as Postfix sends it, answered with REJECT") {
    PolicyParser p;
    PolicyRequest r;
    p.feed("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.5\n"
           "client_name=unknown\nhelo_name=x\nsender=a@b.test\nrecipient=c@d.test\ninstance=1.2.3\n\n");
    REQUIRE(p.next(r) == PolicyParser::Status::Request);
    auto a = parse_address(r.at("client_address"));
    REQUIRE(a);
    CHECK(format_policy_reply(reject_action("5.7.1 {ip} is blocked: {reason}", "", format_address(*a), "listed")) ==
          "action=REJECT 5.7.1 127.0.0.5 is blocked: listed\n\n");
}
