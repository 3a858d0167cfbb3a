// Quarantine benchmark (bench/quarantine-bench.sh, results in bench/README.md):
//
//   insert   store::quarantine() (file written, fsynced, renamed; index row, recipients and the
//            full-text index in one synchronous=FULL transaction) against the same durable file
//            write without any index (the baseline), on an empty index and again at N entries.
//   search   latency of each kind of search at N entries (default 1,000,000) against one full
//            scan of the quarantine table in the same run (the baseline: a search with ratio
//            well below 1 uses an index, one near 1 scans).
//
// The N entries are bulk-inserted with SQL (rows only, no files; synchronous=OFF, big
// transactions; the FTS triggers fire as for real rows): writing a million real files with an
// fsync each would take an hour and measure the disk, not the index.
//
//   pmx-bench-quarantine [--entries N] [--inserts N] [--dir DIR]
//   pmx-bench-quarantine --search-only DIR      searches again on a kept run (PMX_BENCH_KEEP=1)
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "store/quarantine_store.hpp"

namespace fs = std::filesystem;
using namespace pmx;
using Clock = std::chrono::steady_clock;

namespace {

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

[[noreturn]] void die(const std::string& what) {
    fmt::print(stderr, "pmx-bench-quarantine: {}\n", what);
    std::exit(1);
}

template <class T>
T must(Result<T> r) {
    if (!r) die(r.error().message);
    return std::move(*r);
}
void must(Result<void> r) {
    if (!r) die(r.error().message);
}

const char* words[] = {"invoice", "order",  "payment", "watches", "pills",   "offer",  "account", "meeting",
                       "report",  "urgent", "winner",  "prize",   "loan",    "crypto", "shipping", "delivery",
                       "update",  "verify", "password", "bank",   "discount", "free",  "casino",  "dating"};
constexpr int n_words = sizeof words / sizeof *words;

struct Row {
    std::int64_t time_us;
    std::string sender, subject, r1, r2;
    double score;
};

// Deterministic, roughly realistic: 50,000 senders at 997 domains, 2,000 users (a third of the
// messages for two of them), subjects of three words and a number, scores 0-30, 30 days.
Row make_row(std::uint64_t i, std::int64_t start_us, std::int64_t span_us, std::uint64_t n) {
    std::mt19937_64 rng(i * 0x9E3779B97F4A7C15ULL);
    Row r;
    r.time_us = start_us + static_cast<std::int64_t>(static_cast<double>(i) / static_cast<double>(n) * static_cast<double>(span_us));
    r.sender = fmt::format("sender{}@domain{}.example", rng() % 50000, rng() % 997);
    r.subject = fmt::format("{} {} {} #{}", words[rng() % n_words], words[rng() % n_words], words[rng() % n_words],
                            rng() % 1000000);
    r.r1 = fmt::format("user{}@site.example", rng() % 2000);
    r.r2 = rng() % 3 == 0 ? fmt::format("user{}@site.example", rng() % 2000) : "";
    r.score = static_cast<double>(rng() % 300) / 10.0;
    return r;
}

void bulk_fill(store::Database& db, std::uint64_t from, std::uint64_t to, std::int64_t start_us, std::int64_t span_us,
               std::uint64_t n) {
    const std::uint64_t batch = 20000;
    for (std::uint64_t i = from; i < to;) {
        auto txn = must(db.transaction());
        auto q = must(db.cached("INSERT INTO quarantine (time_us, file, size, sender, subject, reason, score) "
                                "VALUES (?, ?, ?, ?, ?, 'spam', ?) RETURNING id"));
        auto rc = must(db.cached("INSERT INTO quarantine_recipient (message_id, recipient) VALUES (?, ?)"));
        for (std::uint64_t end = std::min(to, i + batch); i < end; ++i) {
            Row r = make_row(i, start_us, span_us, n);
            q->reset();
            q->bind(1, r.time_us).bind(2, fmt::format("bulk/{}.eml", i)).bind(3, 4096).bind(4, r.sender);
            q->bind(5, r.subject).bind(6, r.score);
            if (!must(q->step())) die("no id returned");
            std::int64_t id = q->int64(0);
            must(q->run());
            for (const auto& rcpt : {r.r1, r.r2}) {
                if (rcpt.empty() || (rcpt == r.r2 && r.r2 == r.r1)) continue;
                rc->reset();
                rc->bind(1, id).bind(2, rcpt);
                must(rc->run());
            }
        }
        must(txn.commit());
    }
}

std::string message_text(int i) {
    std::string m = fmt::format("From: sender{}@bench.example\r\nTo: user@site.example\r\nSubject: bench {}\r\n\r\n", i, i);
    while (m.size() < 4096) m += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
    return m;
}

// The baseline of an insert: the same durable write the quarantine does, without any index.
void durable_write(const fs::path& dir, int i, const std::string& text) {
    auto tmp = dir / fmt::format(".{}.tmp", i);
    auto final_path = dir / fmt::format("{}.eml", i);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd) < 0)
        die(fmt::format("write {}: {}", tmp.string(), std::strerror(errno)));
    ::close(fd);
    if (::rename(tmp.c_str(), final_path.c_str()) < 0) die("rename");
    int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::fsync(d);
    ::close(d);
}

struct Rates {
    double baseline, quarantine;
};

Rates insert_rates(store::Database& db, const fs::path& qdir, const fs::path& plain_dir, int count, int first) {
    auto text = message_text(first);
    fs::create_directories(plain_dir);
    auto t = Clock::now();
    for (int i = 0; i < count; ++i) durable_write(plain_dir, first + i, text);
    double base = count / since(t);
    t = Clock::now();
    for (int i = 0; i < count; ++i) {
        store::QuarantineMeta m;
        m.sender = fmt::format("sender{}@bench.example", i);
        m.recipients = {"user1@site.example", "user2@site.example"};
        m.subject = fmt::format("bench invoice {}", first + i);
        m.reason = "spam";
        m.score = 12.5;
        must(store::quarantine(db, qdir, text, m));
    }
    return {base, count / since(t)};
}

// Median of several runs, in milliseconds.
double latency_ms(const std::function<std::size_t()>& run, int repeat, std::size_t* rows) {
    std::vector<double> times;
    for (int i = 0; i < repeat; ++i) {
        auto t = Clock::now();
        *rows = run();
        times.push_back(since(t) * 1000);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

void fill_and_insert(store::Database& db, const fs::path& root, const fs::path& qdir, std::uint64_t entries, int inserts) {
    auto empty = insert_rates(db, qdir, root / "plain0", inserts, 0);

    fmt::print("filling the index to {} entries (bulk SQL, no files) ...\n", entries);
    const std::int64_t span = 30LL * 86400 * 1000000;
    const std::int64_t start = store::now_us() - span - 3600LL * 1000000;
    {
        auto bulk = must(store::Database::open(root / "pmx.db", {.synchronous_full = false}));
        must(bulk.exec("PRAGMA synchronous = OFF"));
        auto t = Clock::now();
        bulk_fill(bulk, 0, entries, start, span, entries);
        fmt::print("  {:.0f} rows/s bulk (with recipients and full-text index)\n", static_cast<double>(entries) / since(t));
        auto t2 = Clock::now();
        must(bulk.exec("ANALYZE"));
        fmt::print("  ANALYZE {:.1f} s\n\n", since(t2));
    }
    auto full = insert_rates(db, qdir, root / "plain1", inserts, 1000000);

    fmt::print("insert (4 KiB message, 2 recipients)   durable file only msg/s   quarantine() msg/s   ratio\n");
    fmt::print("  empty index                          {:>10.1f}                {:>10.1f}        {:.2f}\n", empty.baseline,
               empty.quarantine, empty.quarantine / empty.baseline);
    fmt::print("  at {:>9} entries                 {:>10.1f}                {:>10.1f}        {:.2f}\n\n", entries,
               full.baseline, full.quarantine, full.quarantine / full.baseline);

}

void searches(store::Database& db, const fs::path& qdir, std::uint64_t entries) {
    // The baseline for searches: one full scan of the table (a condition no index helps with).
    auto scan = [&]() -> std::size_t {
        auto s = must(db.prepare("SELECT count(*) FROM quarantine WHERE size + 0 < 0"));
        must(s.step());
        return static_cast<std::size_t>(s.int64(0));
    };
    std::size_t rows = 0;
    double scan_ms = latency_ms(scan, 5, &rows);

    auto search = [&](store::QuarantineFilter f) {
        return [&db, &qdir, f]() -> std::size_t { return must(store::search_quarantine(db, qdir, f)).size(); };
    };
    struct Case {
        const char* name;
        store::QuarantineFilter filter;
    };
    const std::int64_t week_ago = store::now_us() - 7LL * 86400 * 1000000;
    std::vector<Case> cases = {
        {"newest page (50)", {}},
        {"page 100 (offset 5000)", {.offset = 5000}},
        {"sender substring, rare", {.sender = "sender12345@"}},
        {"sender substring, common", {.sender = "domain7"}},
        {"recipient, one user's address", {.recipient = "user1234@site.example"}},
        {"recipient substring, rare", {.recipient = "user1999@"}},
        {"full text, one word", {.text = "casino"}},
        {"full text, rare number", {.text = "424242"}},
        {"full text, two words + prefix", {.text = "crypto pri*"}},
        {"score range 29.5-30", {.min_score = 29.5, .max_score = 30.0}},
        {"score range 10-20", {.min_score = 10.0, .max_score = 20.0}},
        {"score >= 29.9, last week", {.min_score = 29.9, .since_us = week_ago}},
        {"full text + held", {.text = "casino", .state = store::HeldState::Held}},
        {"subject substring, rare", {.subject = "#424242"}},
    };
    fmt::print("search at {} entries (median of 5)      ms      rows   ratio to full scan\n", entries);
    fmt::print("  full table scan (baseline)        {:>8.2f}  {:>8}   1.00\n", scan_ms, rows);
    for (const auto& c : cases) {
        double ms = latency_ms(search(c.filter), 5, &rows);
        fmt::print("  {:<32}  {:>8.2f}  {:>8}   {:.3f}\n", c.name, ms, rows, ms / scan_ms);
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::uint64_t entries = 1000000;
    int inserts = 1000;
    std::string search_only;
    std::string base_dir = std::getenv("PMX_BENCH_DIR") ? std::getenv("PMX_BENCH_DIR") : "/var/tmp";
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "--entries") entries = std::stoull(value());
        else if (a == "--inserts") inserts = std::stoi(value());
        else if (a == "--dir") base_dir = value();
        else if (a == "--search-only") search_only = value();
        else die("usage: pmx-bench-quarantine [--entries N] [--inserts N] [--dir DIR]");
    }
    std::string tmpl = base_dir + "/pmx-qbench-XXXXXX";
    if (search_only.empty() && !::mkdtemp(tmpl.data())) die("mkdtemp in " + base_dir + ": " + std::strerror(errno));
    fs::path root = search_only.empty() ? fs::path(tmpl) : fs::path(search_only);
    fs::path qdir = root / "quarantine";
    fs::create_directories(qdir);
    auto db = must(store::Database::open(root / "pmx.db"));
    if (!search_only.empty()) {
        auto n = must(db.prepare("SELECT count(*) FROM quarantine"));
        must(n.step());
        entries = static_cast<std::uint64_t>(n.int64(0));
        fmt::print("quarantine searches on {} ({} entries)\n\n", root.string(), entries);
    } else {
        fmt::print("quarantine benchmark in {} ({} entries, {} real inserts per round)\n\n", root.string(), entries,
                   inserts);
        fill_and_insert(db, root, qdir, entries, inserts);
    }
    searches(db, qdir, entries);
    if (!std::getenv("PMX_BENCH_KEEP") && search_only.empty()) fs::remove_all(root);
    return 0;
}
