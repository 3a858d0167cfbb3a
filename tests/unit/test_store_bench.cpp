// Store measurements, skipped by default (numbers, never timed assertions). Run them with:
//   build/tests/pmx-unit-tests --test-suite=store-bench --no-skip
// Set PMX_BENCH_DIR to measure on another file system than /tmp.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "store/database.hpp"
#include "store/lists_store.hpp"
#include "store/message_log.hpp"
#include "store/quarantine_store.hpp"

namespace fs = std::filesystem;
using namespace pmx::store;
using Clock = std::chrono::steady_clock;

namespace {

struct BenchDir {
    fs::path path;
    BenchDir() {
        const char* base = std::getenv("PMX_BENCH_DIR");
        std::string tmpl = std::string(base ? base : "/tmp") + "/pmx-bench-XXXXXX";
        path = mkdtemp(tmpl.data());
    }
    ~BenchDir() { fs::remove_all(path); }
};

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

LogEntry sample_entry(int i) {
    LogEntry e;
    e.queue_id = fmt::format("4Q{:08X}", i);
    e.client_ip = fmt::format("198.51.100.{}", i % 250);
    e.sender = fmt::format("sender{}@example.net", i % 1000);
    e.size = 4000 + static_cast<std::uint64_t>(i % 5000);
    e.score = (i % 100) / 10.0;
    e.rules = {"BAYES_50", "HTML_MESSAGE", "DKIM_VALID"};
    e.elapsed_us = 15000;
    e.node = "gw1";
    e.recipients = {{"alice@site.example", pmx::policy::Outcome::Accept, "", ""},
                    {"bob@site.example", pmx::policy::Outcome::Quarantine, "probable spam", "spam"}};
    return e;
}

void log_rate(const char* label, bool full, int rows, int batch) {
    BenchDir d;
    auto db = Database::open(d.path / "pmx.db", {.synchronous_full = full});
    REQUIRE(db.ok());
    auto start = Clock::now();
    for (int i = 0; i < rows;) {
        auto txn = db->transaction();
        REQUIRE(txn.ok());
        for (int j = 0; j < batch && i < rows; ++j, ++i) REQUIRE(append_log(*db, sample_entry(i)).ok());
        REQUIRE(txn->commit().ok());
    }
    double s = seconds_since(start);
    MESSAGE(fmt::format("message log, {}: {} rows (2 recipients each) in {:.2f} s = {:.0f} rows/s", label, rows, s,
                        rows / s));
}

}  // namespace

TEST_SUITE("store-bench") {
TEST_CASE("bench: message log insert rate" * doctest::skip()) {
    log_rate("synchronous=FULL, 1 row per transaction", true, 2000, 1);
    log_rate("synchronous=FULL, 100 rows per transaction", true, 50000, 100);
    log_rate("synchronous=NORMAL, 1 row per transaction", false, 20000, 1);
    log_rate("synchronous=NORMAL, 100 rows per transaction", false, 50000, 100);

    BenchDir d;
    auto db = Database::open(d.path / "pmx.db");
    REQUIRE(db.ok());
    for (int i = 0; i < 50000;) {
        auto txn = db->transaction();
        for (int j = 0; j < 1000; ++j, ++i) REQUIRE(append_log(*db, sample_entry(i)).ok());
        REQUIRE(txn->commit().ok());
    }
    auto start = Clock::now();
    auto recent = recent_log(*db, {.limit = 50});
    double plain = seconds_since(start);
    start = Clock::now();
    auto filtered = recent_log(*db, {.recipient = "bob", .verdict = pmx::policy::Outcome::Quarantine, .limit = 50});
    double with_filters = seconds_since(start);
    start = Clock::now();
    auto rare = recent_log(*db, {.sender = "sender999@", .limit = 50});
    double substring = seconds_since(start);
    MESSAGE(fmt::format("pmx log over 50,000 rows: newest 50 in {:.2f} ms, recipient+verdict filter {:.2f} ms, "
                        "rare sender substring {:.2f} ms ({} rows)",
                        plain * 1e3, with_filters * 1e3, substring * 1e3, rare->size()));
}

TEST_CASE("bench: quarantine rate" * doctest::skip()) {
    BenchDir d;
    auto db = Database::open(d.path / "pmx.db");
    REQUIRE(db.ok());
    fs::create_directory(d.path / "q");
    std::string msg(20 * 1024, 'x');
    QuarantineMeta m;
    m.sender = "a@spam.example";
    m.recipients = {"alice@site.example"};
    m.subject = "Cheap";
    m.reason = "spam";
    const int n = 500;
    auto start = Clock::now();
    for (int i = 0; i < n; ++i) REQUIRE(quarantine(*db, d.path / "q", msg, m).ok());
    double s = seconds_since(start);
    MESSAGE(fmt::format("quarantine: {} messages of 20 KiB (file fsync + dir fsync + index commit) in {:.2f} s = "
                        "{:.0f} messages/s, {:.2f} ms each",
                        n, s, n / s, s * 1e3 / n));
}

TEST_CASE("bench: list lookups with 10,000 entries" * doctest::skip()) {
    BenchDir d;
    auto path = d.path / "pmx.db";
    auto db = Database::open(path);
    REQUIRE(db.ok());
    std::string file;
    for (int i = 0; i < 4000; ++i) file += fmt::format("block sender user{}@domain{}.example\n", i, i % 700);
    for (int i = 0; i < 3000; ++i) file += fmt::format("block sender spam{}.example\n", i);
    for (int i = 0; i < 1000; ++i) file += fmt::format("block sender .tree{}.example\n", i);
    for (int i = 0; i < 100; ++i) file += fmt::format("block sender news{}-*@*\n", i);
    for (int i = 0; i < 400; ++i) file += fmt::format("block sender *@*.glob{}.example\n", i);
    for (int i = 0; i < 1000; ++i) file += fmt::format("block host 10.{}.{}.0/24\n", i / 250, i % 250);
    for (int i = 0; i < 300; ++i) file += fmt::format("block host 192.0.{}.{}\n", i / 250, i % 250);
    for (int i = 0; i < 200; ++i) file += fmt::format("block host 2001:db8:{:x}::/48\n", i);
    auto start = Clock::now();
    auto imported = import_list(*db, file, {});
    double import_s = seconds_since(start);
    REQUIRE(imported.ok());
    REQUIRE(imported->added == 10000);

    auto lists = DatabaseLists::open(path);
    REQUIRE(lists.ok());
    start = Clock::now();
    REQUIRE((*lists)->refresh().ok());
    (void)(*lists)->sender_listed(pmx::policy::ListKind::Block, "", "x@y.example");  // loads and compiles the list
    double load_s = seconds_since(start);

    std::mt19937 rng(42);
    std::vector<std::string> senders, ips;
    for (int i = 0; i < 10000; ++i) {
        switch (i % 6) {
            case 0: senders.push_back(fmt::format("user{}@domain{}.example", rng() % 4000, rng() % 700)); break;
            case 1: senders.push_back(fmt::format("x@spam{}.example", rng() % 6000)); break;
            case 2: senders.push_back(fmt::format("x@a.b.tree{}.example", rng() % 2000)); break;
            case 3: senders.push_back(fmt::format("news{}-daily@shop.example", rng() % 200)); break;
            case 4: senders.push_back(fmt::format("x@mx.glob{}.example", rng() % 800)); break;
            default: senders.push_back(fmt::format("nobody{}@clean.example", rng())); break;
        }
        ips.push_back(i % 2 ? fmt::format("10.{}.{}.{}", rng() % 8, rng() % 256, rng() % 256)
                            : fmt::format("2001:db8:{:x}::{:x}", rng() % 400, rng() % 65536));
    }
    const int rounds = 20;
    int hits = 0;
    start = Clock::now();
    for (int r = 0; r < rounds; ++r)
        for (const auto& s : senders) hits += (*lists)->sender_listed(pmx::policy::ListKind::Block, "", s);
    double sender_s = seconds_since(start);
    start = Clock::now();
    int host_hits = 0;
    for (int r = 0; r < rounds; ++r)
        for (const auto& ip : ips) host_hits += (*lists)->host_listed(pmx::policy::ListKind::Block, "", ip, "mx.example.org");
    double host_s = seconds_since(start);
    start = Clock::now();
    int misses = 0;
    for (int r = 0; r < rounds; ++r)
        for (const auto& s : senders) misses += (*lists)->sender_listed(pmx::policy::ListKind::Block, "nobody@site.example", s);
    double owner_s = seconds_since(start);
    const double n = rounds * 10000.0;
    MESSAGE(fmt::format("lists, 10,000 entries: import {:.0f} ms; load + compile {:.1f} ms; sender lookup {:.2f} us "
                        "({:.0f}% hits, 100 wildcards tried on a miss); host lookup {:.2f} us ({:.0f}% hits); "
                        "per-user list that does not exist {:.2f} us",
                        import_s * 1e3, load_s * 1e3, sender_s * 1e6 / n, 100.0 * hits / n, host_s * 1e6 / n,
                        100.0 * host_hits / n, owner_s * 1e6 / n));
    CHECK(misses == 0);
}
}
