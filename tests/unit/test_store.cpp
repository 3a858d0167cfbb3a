// The store on real SQLite files in a temporary directory: schema and migrations, WAL,
// transactions, quarantine, message log, lists, and two connections writing at once.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/database.hpp"
#include "store/lists_store.hpp"
#include "store/message_log.hpp"
#include "store/quarantine_store.hpp"
#include "util/atomic_file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx;
using namespace pmx::store;

namespace {

using pmx::test::TempDir;

Database open_db(const fs::path& p, OpenOptions o = {}) {
    auto db = Database::open(p, o);
    if (!db) FAIL(db.error().message);
    return std::move(*db);
}

std::int64_t count(Database& db, std::string_view sql) {
    auto s = db.prepare(sql);
    REQUIRE(s.ok());
    auto row = s->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    return s->int64(0);
}

std::vector<fs::path> files_under(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) out.push_back(e.path());
    return out;
}

constexpr std::int64_t t0 = 1795600800LL * 1000000;  // 2026-11-25 07:20:00 UTC

QuarantineMeta meta(std::string sender, std::vector<std::string> rcpts, std::string subject, std::string reason,
                    std::int64_t time_us) {
    QuarantineMeta m;
    m.time_us = time_us;
    m.queue_id = "4Q" + std::to_string(time_us % 1000);
    m.client_ip = "192.0.2.7";
    m.sender = std::move(sender);
    m.recipients = std::move(rcpts);
    m.subject = std::move(subject);
    m.reason = std::move(reason);
    m.score = 12.5;
    m.node = "gw1";
    m.rule = "high-scoring spam";
    return m;
}

}  // namespace

TEST_CASE("store: opening creates the file, WAL mode, and the latest schema from empty") {
    TempDir t;
    auto p = t.path / "pmx.db";
    {
        auto db = open_db(p);
        CHECK(*db.journal_mode() == "wal");
        CHECK(*db.schema_version() == Database::latest_schema_version());
        CHECK(Database::latest_schema_version() >= 1);
        CHECK(count(db, "SELECT count(*) FROM schema_migrations") == Database::latest_schema_version());
        CHECK(count(db, "PRAGMA foreign_keys") == 1);
        CHECK(count(db, "PRAGMA synchronous") == 2);  // FULL
        for (auto table : {"quarantine", "quarantine_recipient", "message_log", "message_log_recipient", "list_entry",
                           "list_version"}) {
            CAPTURE(table);
            CHECK(count(db, fmt::format("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{}'",
                                        table)) == 1);
        }
    }
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);

    // Opening again migrates nothing and keeps the data.
    auto db = open_db(p, OpenOptions{.synchronous_full = false});
    CHECK(count(db, "SELECT count(*) FROM schema_migrations") == Database::latest_schema_version());
    CHECK(count(db, "PRAGMA synchronous") == 1);  // NORMAL
}

TEST_CASE("store: clear errors for a missing directory and a newer schema") {
    TempDir t;
    auto missing = Database::open(t.path / "nope" / "pmx.db");
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find((t.path / "nope" / "pmx.db").string()) != std::string::npos);
    CHECK(missing.error().message.find("No such file") != std::string::npos);

    auto p = t.path / "pmx.db";
    {
        auto db = open_db(p);
        REQUIRE(db.exec("INSERT INTO schema_migrations VALUES (999, 0, 'from the future')").ok());
    }
    auto newer = Database::open(p);
    REQUIRE(!newer.ok());
    CHECK(newer.error().message.find("newer than this pmx knows") != std::string::npos);
}

TEST_CASE("store: transactions roll back unless committed, savepoints nest") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    auto insert = [&](const char* pattern) {
        auto s = db.prepare("INSERT INTO list_entry (kind, owner, type, pattern, added_us) VALUES ('allow', '', 'sender', :p, 1)");
        REQUIRE(s.ok());
        s->bind(":p", pattern);
        REQUIRE(s->run().ok());
    };
    {
        auto txn = db.transaction();
        REQUIRE(txn.ok());
        insert("a.example");
    }
    CHECK(count(db, "SELECT count(*) FROM list_entry") == 0);
    CHECK(!db.in_transaction());
    {
        auto outer = db.transaction();
        REQUIRE(outer.ok());
        insert("b.example");
        {
            auto inner = db.transaction();
            REQUIRE(inner.ok());
            insert("c.example");
        }  // inner rolled back
        {
            auto inner = db.transaction();
            REQUIRE(inner.ok());
            insert("d.example");
            REQUIRE(inner->commit().ok());
        }
        REQUIRE(outer->commit().ok());
    }
    CHECK(count(db, "SELECT count(*) FROM list_entry") == 2);
    CHECK(count(db, "SELECT count(*) FROM list_entry WHERE pattern = 'c.example'") == 0);

    // A bind to a parameter that does not exist is reported by step(), naming the SQL.
    auto s = db.prepare("SELECT 1 WHERE 1 = :one");
    REQUIRE(s.ok());
    s->bind(":two", 1);
    auto r = s->step();
    REQUIRE(!r.ok());
    CHECK(r.error().message.find(":two") != std::string::npos);
}

TEST_CASE("quarantine: stored whole, indexed, searchable, newest first") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    auto qdir = t.path / "quarantine";
    fs::create_directory(qdir);

    std::string msg1 = "From: a@spam.example\r\nSubject: Cheap pills\r\n\r\nBuy now\r\n";
    std::string msg2 = "From: b@virus.example\r\nSubject: Invoice 100%\r\n\r\n<attachment>\r\n";
    std::string msg3 = "From: c@ok.example\r\nSubject: Re: lunch_time\r\n\r\nsure\r\n";
    auto id1 = quarantine(db, qdir, msg1, meta("a@Spam.Example", {"alice@site.example"}, "Cheap pills", "spam", t0));
    auto id2 = quarantine(db, qdir, msg2,
                          meta("b@virus.example", {"bob@site.example", "alice@site.example", "bob@site.example"},
                               "Invoice 100%", "virus", t0 + 3600LL * 1000000));
    auto id3 = quarantine(db, qdir, msg3, meta("", {"carol@site.example"}, "Re: lunch_time", "spam", t0 + 86400LL * 1000000));
    REQUIRE(id1.ok());
    REQUIRE(id2.ok());
    REQUIRE(id3.ok());

    auto m = find_quarantined(db, qdir, *id2);
    REQUIRE(m.ok());
    REQUIRE(m->has_value());
    const auto& q = **m;
    CHECK(q.meta.recipients == std::vector<std::string>{"alice@site.example", "bob@site.example"});  // deduplicated
    CHECK(q.size == msg2.size());
    CHECK(q.meta.score == 12.5);
    CHECK(q.meta.rule == "high-scoring spam");
    CHECK(q.file.starts_with("2026/11/25/"));
    CHECK(q.file.size() == std::string("2026/11/25/").size() + 32 + 4);
    CHECK(*read_file(q.path) == msg2);
    struct stat st {};
    REQUIRE(::stat(q.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    CHECK((**find_quarantined(db, qdir, *id3)).file.starts_with("2026/11/26/"));
    CHECK(files_under(qdir).size() == 3);  // no temporary files left behind
    CHECK(!find_quarantined(db, qdir, 4242)->has_value());

    auto ids = [&](QuarantineFilter f) {
        auto r = search_quarantine(db, qdir, f);
        REQUIRE(r.ok());
        std::vector<std::int64_t> out;
        for (const auto& e : *r) out.push_back(e.id);
        return out;
    };
    CHECK(ids({}) == std::vector<std::int64_t>{*id3, *id2, *id1});
    CHECK(ids({.sender = "SPAM.example"}) == std::vector<std::int64_t>{*id1});
    CHECK(ids({.recipient = "alice"}) == std::vector<std::int64_t>{*id2, *id1});
    CHECK(ids({.subject = "PILLS"}) == std::vector<std::int64_t>{*id1});
    CHECK(ids({.subject = "100%"}) == std::vector<std::int64_t>{*id2});
    CHECK(ids({.subject = "%"}) == std::vector<std::int64_t>{*id2});         // LIKE wildcards are literal
    CHECK(ids({.subject = "_time"}) == std::vector<std::int64_t>{*id3});
    CHECK(ids({.reason = "SPAM"}) == std::vector<std::int64_t>{*id3, *id1});
    CHECK(ids({.since_us = t0 + 1}) == std::vector<std::int64_t>{*id3, *id2});
    CHECK(ids({.until_us = t0 + 86400LL * 1000000}) == std::vector<std::int64_t>{*id2, *id1});
    CHECK(ids({.limit = 1, .offset = 1}) == std::vector<std::int64_t>{*id2});
    CHECK(ids({.sender = "nobody"}).empty());

    auto headers = read_message_headers(q.path);
    REQUIRE(headers.ok());
    CHECK(*headers == "From: b@virus.example\r\nSubject: Invoice 100%\r\n");

    // delete: the rows, the recipients, then the file.
    auto del = delete_quarantined(db, qdir, *id2);
    REQUIRE(del.ok());
    CHECK(*del);
    CHECK(!fs::exists(q.path));
    CHECK(count(db, fmt::format("SELECT count(*) FROM quarantine_recipient WHERE message_id = {}", *id2)) == 0);
    CHECK(!*delete_quarantined(db, qdir, *id2));
}

TEST_CASE("quarantine: from a file descriptor (the milter's spill file), offset untouched") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    auto qdir = t.path / "q";
    fs::create_directory(qdir);

    std::string big(3 * 1024 * 1024 + 17, 'x');
    for (size_t i = 0; i < big.size(); i += 1000) big[i] = static_cast<char>('a' + (i / 1000) % 26);
    // An unlinked temporary file, as the milter spills large messages.
    char tmpl[] = "/tmp/pmx-spill-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    ::unlink(tmpl);
    REQUIRE(::write(fd, big.data(), big.size()) == static_cast<ssize_t>(big.size()));
    REQUIRE(::lseek(fd, 12345, SEEK_SET) == 12345);

    auto id = quarantine(db, qdir, MessageFd{fd, big.size()}, meta("x@y.example", {"r@site.example"}, "big", "spam", t0));
    REQUIRE(id.ok());
    CHECK(::lseek(fd, 0, SEEK_CUR) == 12345);
    auto m = find_quarantined(db, qdir, *id);
    CHECK((**m).size == big.size());
    CHECK(*read_file((**m).path) == big);

    // A memfd (no copy_file_range between file systems: falls back to sendfile or read/write).
    int mfd = memfd_create("pmx-test", 0);
    REQUIRE(mfd >= 0);
    REQUIRE(::write(mfd, big.data(), 100000) == 100000);
    auto id2 = quarantine(db, qdir, MessageFd{mfd, 100000}, meta("x@y.example", {"r@site.example"}, "memfd", "spam", t0));
    REQUIRE(id2.ok());
    CHECK(*read_file((**find_quarantined(db, qdir, *id2)).path) == big.substr(0, 100000));

    // A file shorter than announced: an error, and nothing left behind.
    auto before = files_under(qdir).size();
    auto short_read = quarantine(db, qdir, MessageFd{mfd, 200000}, meta("x@y.example", {"r@site.example"}, "s", "spam", t0));
    REQUIRE(!short_read.ok());
    CHECK(short_read.error().message.find("ended after 100000 of 200000 bytes") != std::string::npos);
    CHECK(files_under(qdir).size() == before);
    CHECK(count(db, "SELECT count(*) FROM quarantine") == 2);
    ::close(fd);
    ::close(mfd);
}

TEST_CASE("quarantine: failures leave neither a file nor a row") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    std::string msg = "Subject: x\r\n\r\nbody\r\n";

    // The directory cannot be used (a regular file where the directory should be).
    REQUIRE(write_file_atomically(t.path / "not-a-dir", "").ok());
    auto r = quarantine(db, t.path / "not-a-dir", msg, meta("a@b.example", {"r@site.example"}, "x", "spam", t0));
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("not-a-dir") != std::string::npos);
    auto missing = quarantine(db, t.path / "missing", msg, meta("a@b.example", {"r@site.example"}, "x", "spam", t0));
    REQUIRE(!missing.ok());
    CHECK(missing.error().message.find("No such file") != std::string::npos);

    // The index insert fails: the file written just before is removed again.
    auto qdir = t.path / "q";
    fs::create_directory(qdir);
    REQUIRE(db.exec("CREATE TRIGGER refuse BEFORE INSERT ON quarantine BEGIN SELECT RAISE(ABORT, 'disk says no'); END").ok());
    auto failed = quarantine(db, qdir, msg, meta("a@b.example", {"r@site.example"}, "x", "spam", t0));
    REQUIRE(!failed.ok());
    CHECK(failed.error().message.find("disk says no") != std::string::npos);
    CHECK(failed.error().message.find("removed") != std::string::npos);
    CHECK(files_under(qdir).empty());
    CHECK(count(db, "SELECT count(*) FROM quarantine") == 0);
    CHECK(!db.in_transaction());

    // No recipients: refused before anything is written.
    REQUIRE(db.exec("DROP TRIGGER refuse").ok());
    CHECK(!quarantine(db, qdir, msg, meta("a@b.example", {}, "x", "spam", t0)).ok());
    CHECK(files_under(qdir).empty());
}

TEST_CASE("message log: one row per message, per-recipient verdicts, filters") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    using policy::Outcome;

    LogEntry a;
    a.time_us = t0;
    a.queue_id = "4QAAA";
    a.client_ip = "::ffff:192.0.2.7";
    a.sender = "News@Shop.example";
    a.size = 2048;
    a.score = 3.5;
    a.rules = {"BAYES_50", "HTML_MESSAGE"};
    a.elapsed_us = 12000;
    a.recipients = {{"alice@site.example", Outcome::Accept, "", ""}, {"bob@site.example", Outcome::Accept, "", ""}};
    LogEntry b = a;
    b.time_us = t0 + 1000000;
    b.queue_id = "4QBBB";
    b.client_ip = "2001:db8::1";
    b.sender = "spammer@bad.example";
    b.score = 15;
    b.rules = {"URIBL_BLACK"};
    b.recipients = {{"alice@site.example", Outcome::Quarantine, "high-scoring spam", "spam"},
                    {"carol@site.example", Outcome::Reject, "viruses", "550 5.7.1 no"}};
    LogEntry c = a;
    c.time_us = t0 + 2000000;
    c.queue_id = "4QCCC";
    c.sender = "";
    c.score.reset();
    c.rules.clear();
    c.recipients = {{"postmaster@site.example", Outcome::Tempfail, "", "451 4.3.0 try later"}};

    REQUIRE(append_log(db, a).ok());
    auto idb = append_log(db, b);
    REQUIRE(idb.ok());
    REQUIRE(append_log(db, c).ok());

    auto q = [&](LogFilter f) {
        auto r = recent_log(db, f);
        REQUIRE(r.ok());
        std::vector<std::string> out;
        for (const auto& e : *r) out.push_back(e.queue_id);
        return out;
    };
    CHECK(q({}) == std::vector<std::string>{"4QCCC", "4QBBB", "4QAAA"});
    CHECK(q({.limit = 2}) == std::vector<std::string>{"4QCCC", "4QBBB"});
    CHECK(q({.sender = "shop.EXAMPLE"}) == std::vector<std::string>{"4QAAA"});
    CHECK(q({.recipient = "carol"}) == std::vector<std::string>{"4QBBB"});
    CHECK(q({.verdict = Outcome::Reject}) == std::vector<std::string>{"4QBBB"});
    CHECK(q({.verdict = Outcome::Accept}) == std::vector<std::string>{"4QAAA"});
    CHECK(q({.client_ip = "192.0.2.7"}) == std::vector<std::string>{"4QCCC", "4QAAA"});  // stored canonical
    CHECK(q({.client_ip = "2001:DB8:0::1"}) == std::vector<std::string>{"4QBBB"});
    CHECK(q({.since_us = t0 + 1}) == std::vector<std::string>{"4QCCC", "4QBBB"});
    CHECK(q({.until_us = t0 + 1}) == std::vector<std::string>{"4QAAA"});

    auto all = *recent_log(db, {});
    const auto& eb = all[1];
    CHECK(eb.client_ip == "2001:db8::1");
    CHECK(eb.rules == std::vector<std::string>{"URIBL_BLACK"});
    CHECK(eb.score == 15);
    REQUIRE(eb.recipients.size() == 2);
    CHECK(eb.recipients[1].address == "carol@site.example");
    CHECK(eb.recipients[1].verdict == Outcome::Reject);
    CHECK(eb.recipients[1].detail == "550 5.7.1 no");
    CHECK(eb.recipients[0].rule == "high-scoring spam");
    CHECK(!all[0].score.has_value());
    CHECK(all[2].rules == std::vector<std::string>{"BAYES_50", "HTML_MESSAGE"});
    CHECK(parse_verdict("quarantine") == Outcome::Quarantine);
    CHECK(!parse_verdict("maybe").has_value());

    // A quarantine row the log refers to can be deleted; the log keeps its row.
    auto qdir = t.path / "q";
    fs::create_directory(qdir);
    auto qid = quarantine(db, qdir, "Subject: x\r\n\r\n", meta("a@b.example", {"r@site.example"}, "x", "spam", t0));
    REQUIRE(qid.ok());
    LogEntry d = a;
    d.queue_id = "4QDDD";
    d.quarantine_id = *qid;
    REQUIRE(append_log(db, d).ok());
    REQUIRE(*delete_quarantined(db, qdir, *qid));
    CHECK(count(db, "SELECT count(*) FROM message_log WHERE queue_id = '4QDDD' AND quarantine_id IS NULL") == 1);
}

TEST_CASE("message log: built from the policy's decision, batched in a caller's transaction") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    policy::Envelope env;
    env.sender = "a@b.example";
    env.recipients = {"x@site.example", "y@site.example"};
    env.client_ip = "192.0.2.9";
    env.queue_id = "4QXYZ";
    policy::Decision d;
    policy::RecipientDecision rx;
    rx.recipient = "x@site.example";
    rx.outcome = policy::Outcome::Reject;
    rx.smtp_code = "550";
    rx.smtp_xcode = "5.7.1";
    rx.smtp_text = "Message contains a virus";
    rx.decided_by = "viruses from outside";
    policy::RecipientDecision ry;
    ry.recipient = "y@site.example";
    ry.outcome = policy::Outcome::Quarantine;
    ry.quarantine_reason = "virus";
    d.recipients = {rx, ry};
    policy::ScanFacts facts;
    facts.spam_score = 1.25;
    facts.spam_rules = {"A,B", "C"};

    auto e = make_log_entry(env, d, facts);
    CHECK(e.recipients[0].detail == "550 5.7.1 Message contains a virus");
    CHECK(e.recipients[0].rule == "viruses from outside");
    CHECK(e.recipients[1].detail == "virus");
    {
        auto txn = db.transaction();
        REQUIRE(txn.ok());
        for (int i = 0; i < 100; ++i) REQUIRE(append_log(db, e).ok());
        REQUIRE(txn->commit().ok());
    }
    CHECK(count(db, "SELECT count(*) FROM message_log") == 100);
    CHECK(count(db, "SELECT count(*) FROM message_log_recipient") == 200);
    auto back = *recent_log(db, {.limit = 1});
    CHECK(back[0].rules == std::vector<std::string>{"A_B", "C"});  // a comma inside a name cannot split it
}

TEST_CASE("lists: add, normalize, duplicates, show, remove, version") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    auto v0 = *list_version(db);

    auto added = add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Sender, .pattern = "@Spam.Example",
                                     .comment = "from\nabuse desk"});
    REQUIRE(added.ok());
    REQUIRE(added->has_value());
    CHECK((*added)->pattern == "spam.example");
    CHECK((*added)->comment == "from abuse desk");
    CHECK(*list_version(db) > v0);

    auto dup = add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Sender, .pattern = "SPAM.example"});
    REQUIRE(dup.ok());
    CHECK(!dup->has_value());

    REQUIRE(add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Host, .pattern = "192.0.2.99/24"}).ok());
    REQUIRE(add_list_entry(db, {.kind = ListKind::Allow, .owner = "<Alice@Site.Example>", .type = EntryType::Sender,
                                .pattern = "boss@partner.example"})
                .ok());
    REQUIRE(add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Host, .pattern = "spam.example"}).ok());

    auto bad = add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Host, .pattern = "192.0.2.300"});
    REQUIRE(!bad.ok());
    CHECK(bad.error().message.find("192.0.2.300") != std::string::npos);
    CHECK(!add_list_entry(db, {.kind = ListKind::Block, .owner = "not-an-address", .pattern = "x.example"}).ok());
    CHECK(normalize_owner("@Site.Example").value() == "@site.example");  // a whole domain's list
    CHECK(!normalize_owner("@").ok());
    CHECK(!normalize_owner("@*.example").ok());

    auto all = *list_entries(db);
    REQUIRE(all.size() == 4);
    CHECK(all[0].owner.empty());
    CHECK(all.back().owner == "alice@site.example");
    auto hosts = *list_entries(db, {.type = EntryType::Host});
    REQUIRE(hosts.size() == 2);
    CHECK(hosts[0].pattern == "192.0.2.0/24");
    CHECK(list_entries(db, {.owner = ""})->size() == 3);
    CHECK(list_entries(db, {.kind = ListKind::Allow, .owner = "alice@site.example"})->size() == 1);

    // remove: the type is found from the pattern; when both types hold it, ask.
    auto v1 = *list_version(db);
    auto ambiguous = remove_list_entry(db, ListKind::Block, "", "spam.example");
    REQUIRE(!ambiguous.ok());
    CHECK(ambiguous.error().message.find("both") != std::string::npos);
    auto removed = remove_list_entry(db, ListKind::Block, "", "spam.example", EntryType::Host);
    REQUIRE(removed.ok());
    REQUIRE(removed->has_value());
    CHECK((*removed)->type == EntryType::Host);
    CHECK(remove_list_entry(db, ListKind::Block, "", "192.0.2.7/24")->has_value());  // same network
    CHECK(!remove_list_entry(db, ListKind::Block, "", "192.0.2.7/24")->has_value());
    CHECK(*list_version(db) > v1);
}

TEST_CASE("lists: import with a summary, export imports back the same") {
    TempDir t;
    auto db = open_db(t.path / "pmx.db");
    REQUIRE(add_list_entry(db, {.kind = ListKind::Block, .type = EntryType::Sender, .pattern = "already.example"}).ok());

    std::string file =
        "# spam sources\n"
        "\n"
        "block sender *@spam.example   # seen 2026-11\n"
        "block host 198.51.100.0/24\n"
        "block 203.0.113.5\n"
        "already.example\n"
        "sender already.example\n"
        "BLOCK news-*@*\n"
        "block 192.0.2.300\n"
        "allow sender friend@ok.example\n"
        "block sender two words\n"
        "block host mail#1.example\n"
        "block *@SPAM.example\n";
    auto dry = import_list(db, file, {.kind = ListKind::Block, .dry_run = true});
    REQUIRE(dry.ok());
    CHECK(dry->added == 4);
    CHECK(list_entries(db)->size() == 1);

    auto r = import_list(db, file, {.kind = ListKind::Block});
    REQUIRE(r.ok());
    CHECK(r->added == 4);
    CHECK(r->duplicates == 3);  // already.example (in the database, then repeated), *@spam.example repeated
    REQUIRE(r->errors.size() == 4);
    CHECK(r->errors[0].line == 11);  // "two words": the parser reports first
    CHECK(r->errors[1].line == 9);
    CHECK(r->errors[1].message.find("192.0.2.300") != std::string::npos);
    CHECK(r->errors[2].line == 10);
    CHECK(r->errors[2].message.find("allow") != std::string::npos);
    CHECK(r->errors[3].line == 12);
    auto comment = *list_entries(db, {.type = EntryType::Sender});
    auto it = std::find_if(comment.begin(), comment.end(), [](const auto& e) { return e.pattern == "*@spam.example"; });
    REQUIRE(it != comment.end());
    CHECK(it->comment == "seen 2026-11");

    // Without --kind, lines must say which list they are for.
    auto nokind = import_list(db, "x.example\nblock\nallow host\n", {});
    REQUIRE(nokind.ok());
    REQUIRE(nokind->errors.size() == 3);
    CHECK(nokind->errors[0].message == "no pattern after \"block\"");
    CHECK(nokind->errors[1].message == "no pattern after \"host\"");
    CHECK(nokind->errors[2].message.find("no kind") == 0);

    // Export, then import into an empty database: the same entries.
    auto exported = export_list(*list_entries(db, {.owner = ""}), "pmx list export\nglobal list");
    CHECK(exported.starts_with("# pmx list export\n# global list\n"));
    TempDir t2;
    auto db2 = open_db(t2.path / "pmx.db");
    auto again = import_list(db2, exported, {});
    REQUIRE(again.ok());
    CHECK(again->errors.empty());
    auto a = *list_entries(db, {.owner = ""});
    auto b = *list_entries(db2, {.owner = ""});
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        CHECK(a[i].pattern == b[i].pattern);
        CHECK(a[i].type == b[i].type);
        CHECK(a[i].kind == b[i].kind);
        CHECK(a[i].comment == b[i].comment);
    }
}

TEST_CASE("lists: DatabaseLists sees a change made through another connection, without a reload") {
    TempDir t;
    auto path = t.path / "pmx.db";
    auto cli = open_db(path);  // the `pmx list` side
    auto lists = DatabaseLists::open(path, {.check_interval = std::chrono::milliseconds(0)});
    REQUIRE(lists.ok());
    auto& l = **lists;

    CHECK(!l.sender_listed(ListKind::Block, "", "x@spam.example"));
    REQUIRE(add_list_entry(cli, {.kind = ListKind::Block, .type = EntryType::Sender, .pattern = ".spam.example"}).ok());
    CHECK(l.sender_listed(ListKind::Block, "", "x@mx.SPAM.example"));
    CHECK(l.sender_entry(ListKind::Block, "", "x@spam.example") == std::optional<std::string>(".spam.example"));
    CHECK(!l.sender_listed(ListKind::Allow, "", "x@spam.example"));
    CHECK(!l.sender_listed(ListKind::Block, "alice@site.example", "x@spam.example"));  // per-user is separate

    REQUIRE(add_list_entry(cli, {.kind = ListKind::Allow, .owner = "alice@site.example", .type = EntryType::Sender,
                                 .pattern = "x@spam.example"})
                .ok());
    CHECK(l.sender_listed(ListKind::Allow, "Alice@Site.example", "X@spam.example"));
    REQUIRE(add_list_entry(cli, {.kind = ListKind::Block, .type = EntryType::Host, .pattern = "2001:db8::/32"}).ok());
    CHECK(l.host_listed(ListKind::Block, "", "IPv6:2001:db8:1::9", "unknown"));
    CHECK(l.host_entry(ListKind::Block, "", "2001:db8::1", "") == std::optional<std::string>("2001:db8::/32"));
    CHECK(!l.host_listed(ListKind::Block, "", "2001:db9::1", ""));

    REQUIRE(remove_list_entry(cli, ListKind::Block, "", ".spam.example")->has_value());
    CHECK(!l.sender_listed(ListKind::Block, "", "x@mx.spam.example"));
    CHECK(l.last_error().empty());

    // With a check interval, a change shows after the interval or an explicit refresh().
    auto slow = DatabaseLists::open(path, {.check_interval = std::chrono::hours(1)});
    REQUIRE(slow.ok());
    CHECK(!(*slow)->sender_listed(ListKind::Block, "", "y@later.example"));
    REQUIRE(add_list_entry(cli, {.kind = ListKind::Block, .type = EntryType::Sender, .pattern = "later.example"}).ok());
    CHECK(!(*slow)->sender_listed(ListKind::Block, "", "y@later.example"));
    REQUIRE((*slow)->refresh().ok());
    CHECK((*slow)->sender_listed(ListKind::Block, "", "y@later.example"));
    CHECK((*slow)->version() == *list_version(cli));
}

TEST_CASE("store: two connections writing at once (milter and CLI) wait for each other") {
    TempDir t;
    auto path = t.path / "pmx.db";
    { auto init = open_db(path); }

    constexpr int per_thread = 200;
    std::atomic<int> failures{0};
    auto writer = [&](std::string prefix) {
        auto db = Database::open(path, {.busy_timeout_ms = 10000, .synchronous_full = false});
        if (!db) {
            ++failures;
            return;
        }
        for (int i = 0; i < per_thread; ++i) {
            LogEntry e;
            e.queue_id = prefix + std::to_string(i);
            e.sender = "a@b.example";
            e.recipients = {{"r@site.example", policy::Outcome::Accept, "", ""}};
            if (!append_log(*db, e)) ++failures;
            if (i % 20 == 0) {
                auto a = add_list_entry(*db, {.kind = ListKind::Block, .type = EntryType::Sender,
                                              .pattern = prefix + std::to_string(i) + ".example"});
                if (!a) ++failures;
            }
        }
    };
    std::thread milter(writer, "m");
    std::thread cli(writer, "c");
    milter.join();
    cli.join();
    CHECK(failures == 0);
    auto db = open_db(path);
    CHECK(count(db, "SELECT count(*) FROM message_log") == 2 * per_thread);
    CHECK(count(db, "SELECT count(*) FROM list_entry") == 2 * per_thread / 20);

    // A writer holding the lock makes the other wait up to its busy_timeout, then fail clearly.
    auto holder = open_db(path);
    auto impatient = open_db(path, {.busy_timeout_ms = 50});
    auto patient = open_db(path, {.busy_timeout_ms = 5000});
    auto txn = holder.transaction();
    REQUIRE(txn.ok());
    auto r = append_log(impatient, LogEntry{});
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("locked") != std::string::npos);
    // Readers are never blocked by a writer in WAL mode.
    CHECK(count(impatient, "SELECT count(*) FROM message_log") == 2 * per_thread);
    std::thread release([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        REQUIRE(txn->commit().ok());
    });
    auto waited = append_log(patient, LogEntry{});
    release.join();
    CHECK(waited.ok());
}

TEST_CASE("lists: lookups from many threads while another connection changes the lists") {
    TempDir t;
    auto path = t.path / "pmx.db";
    auto cli = open_db(path);
    auto lists = DatabaseLists::open(path, {.check_interval = std::chrono::milliseconds(0)});
    REQUIRE(lists.ok());
    std::atomic<bool> stop{false};
    std::atomic<long> lookups{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] {
            while (!stop) {
                (void)(*lists)->sender_listed(ListKind::Block, i % 2 ? "" : "alice@site.example", "x@d7.example");
                (void)(*lists)->host_listed(ListKind::Block, "", "192.0.2.7", "mx.example.org");
                ++lookups;
            }
        });
    for (int i = 0; i < 50; ++i)
        REQUIRE(add_list_entry(cli, {.kind = ListKind::Block, .owner = i % 2 ? "" : "alice@site.example",
                                     .type = EntryType::Sender, .pattern = fmt::format("d{}.example", i)})
                    .ok());
    stop = true;
    for (auto& th : threads) th.join();
    CHECK(lookups > 0);
    CHECK((*lists)->last_error().empty());
    CHECK((*lists)->sender_listed(ListKind::Block, "", "x@d7.example"));
    CHECK((*lists)->sender_listed(ListKind::Block, "alice@site.example", "x@d8.example"));
    CHECK(!(*lists)->sender_listed(ListKind::Block, "", "x@d8.example"));
}

TEST_CASE("store: a database file created by root belongs to the owner of its directory") {
    if (::geteuid() != 0) return;  // only root can give files away
    TempDir t;
    auto dir = t.path / "var-lib-pmx";
    fs::create_directory(dir);
    REQUIRE(::chown(dir.c_str(), 4242, 4343) == 0);
    { auto db = open_db(dir / "pmx.db"); }
    struct stat st {};
    REQUIRE(::stat((dir / "pmx.db").c_str(), &st) == 0);
    CHECK(st.st_uid == 4242);
    CHECK(st.st_gid == 4343);
}
