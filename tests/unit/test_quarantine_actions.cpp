// Quarantine actions on real SQLite files and a real spool in a temporary directory: searches
// (score range, full text, held/released), release per recipient, forward, delete, export to
// mboxrd, expire with the stray-file sweep, the audit log, and SIGKILL during quarantine writes.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "quarantine/forward.hpp"
#include "quarantine/mbox.hpp"
#include "quarantine/release.hpp"
#include "quarantine/remove.hpp"
#include "queue/spool.hpp"
#include "store/audit.hpp"
#include "store/database.hpp"
#include "store/lists_store.hpp"
#include "store/quarantine_state.hpp"
#include "store/quarantine_store.hpp"
#include "store/quarantine_sweep.hpp"
#include "store/schema.hpp"
#include "util/atomic_file.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx;
using pmx::test::TempDir;

namespace {

constexpr std::int64_t t0 = 1795600800LL * 1000000;  // 2026-11-25 10:00:00 UTC
constexpr std::int64_t hour = 3600LL * 1000000;

store::Database open_db(const fs::path& p, store::OpenOptions o = {}) {
    auto db = store::Database::open(p, o);
    if (!db) FAIL(db.error().message);
    return std::move(*db);
}

std::int64_t count(store::Database& db, std::string_view sql) {
    auto s = db.prepare(sql);
    REQUIRE(s.ok());
    auto row = s->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    return s->int64(0);
}

store::QuarantineMeta meta(std::string sender, std::vector<std::string> rcpts, std::string subject,
                           std::optional<double> score, std::int64_t time_us, std::string reason = "spam") {
    store::QuarantineMeta m;
    m.time_us = time_us;
    m.sender = std::move(sender);
    m.recipients = std::move(rcpts);
    m.subject = std::move(subject);
    m.reason = std::move(reason);
    m.score = score;
    return m;
}

// A quarantine directory, a spool and a database, side by side.
struct World {
    TempDir t{"pmx-qa"};
    fs::path qdir = t.path / "quarantine";
    fs::path spool = t.path / "spool";
    store::Database db = open_db(t.path / "pmx.db");
    World() { fs::create_directory(qdir); }
    quarantine::Places places() const { return {qdir, spool}; }
    std::int64_t add(const store::QuarantineMeta& m, std::string body = "hello\r\n") {
        std::string msg = fmt::format("From: {}\r\nSubject: {}\r\n\r\n{}", m.sender, m.subject, body);
        auto id = store::quarantine(db, qdir, msg, m);
        if (!id) FAIL(id.error().message);
        return *id;
    }
    std::vector<std::int64_t> ids(store::QuarantineFilter f) {
        auto r = store::search_quarantine(db, qdir, f);
        if (!r) FAIL(r.error().message);
        std::vector<std::int64_t> out;
        for (const auto& e : *r) out.push_back(e.id);
        return out;
    }
    store::QuarantinedMessage get(std::int64_t id) {
        auto m = store::find_quarantined(db, qdir, id);
        REQUIRE(m.ok());
        REQUIRE(m->has_value());
        return **m;
    }
    // Spool entries waiting for pmx-queued, oldest first.
    std::vector<std::pair<queue::Entry, std::string>> spooled() const {
        std::vector<std::pair<queue::Entry, std::string>> out;
        if (!fs::exists(spool / "incoming")) return out;
        std::vector<fs::path> files;
        for (const auto& e : fs::directory_iterator(spool / "incoming")) files.push_back(e.path());
        std::sort(files.begin(), files.end());
        for (const auto& f : files) {
            auto text = read_file(f);
            REQUIRE(text.ok());
            std::size_t header = 0;
            auto e = queue::parse_header(*text, &header);
            REQUIRE(e.ok());
            out.emplace_back(*e, text->substr(header));
        }
        return out;
    }
    std::vector<store::AuditEntry> audit(store::AuditFilter f = {}) {
        auto r = store::list_audit(db, f);
        REQUIRE(r.ok());
        return *r;
    }
};

using Ids = std::vector<std::int64_t>;

}  // namespace

TEST_CASE("quarantine search: score range, full text, held or released, paging") {
    World w;
    auto a = w.add(meta("alice@shop.example", {"bob@site.example"}, "Cheap watches for you", 4.5, t0));
    auto b = w.add(meta("news@café.example", {"bob@site.example", "carol@site.example"}, "Résumé of the week", 12.0,
                        t0 + hour));
    auto c = w.add(meta("", {"carol@site.example"}, "Invoice 2026-77 overdue", std::nullopt, t0 + 2 * hour, "virus"));
    auto d = w.add(meta("billing@invoices.example", {"dave@site.example"}, "Your invoice", 7.0, t0 + 3 * hour));

    CHECK(w.ids({.min_score = 5.0}) == Ids{d, b});
    CHECK(w.ids({.max_score = 7.0}) == Ids{d, a});  // inclusive; no score never matches
    CHECK(w.ids({.min_score = 4.5, .max_score = 7.0}) == Ids{d, a});
    CHECK(w.ids({.min_score = 20.0}).empty());

    CHECK(w.ids({.text = "watches"}) == Ids{a});
    CHECK(w.ids({.text = "WATCHES cheap"}) == Ids{a});                // every word, any case
    CHECK(w.ids({.text = "resume"}) == Ids{b});                        // accents ignored
    CHECK(w.ids({.text = "invoice"}) == Ids{d, c});                    // subject words, not "invoices" (sender)
    CHECK(w.ids({.text = "invoice*"}) == Ids{d, c});
    CHECK(w.ids({.text = "invoices"}) == Ids{d});                      // sender's domain
    CHECK(w.ids({.text = "alice@shop.example"}) == Ids{a});            // an address: its words in a row
    CHECK(w.ids({.text = "\"your invoice\""}) == Ids{d});
    CHECK(w.ids({.text = "\"invoice your\""}).empty());
    CHECK(w.ids({.text = "2026-77"}) == Ids{c});
    CHECK(w.ids({.text = "OR"}).empty());                              // FTS5 operators are words here
    CHECK(w.ids({.text = "watches OR invoice"}).empty());
    CHECK(w.ids({.min_score = 1.0, .text = "invoice"}) == Ids{d});    // combined with the other filters
    CHECK(w.ids({.text = "invoice", .limit = 1, .offset = 1}) == Ids{c});

    // Bad input: a clear error, never FTS5 or SQL syntax.
    for (const std::string& bad : std::vector<std::string>{"\"unclosed", "***", "-- ;", "", std::string(1001, 'a')}) {
        auto r = store::search_quarantine(w.db, w.qdir, {.text = bad});
        if (bad.empty()) {
            CHECK(r.ok());  // no text: no full-text filter
            continue;
        }
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.starts_with("Invalid search text: "));
    }
    CHECK(store::fts_query("\"unclosed").error().message == "Invalid search text: the quote at position 1 is not closed");
    CHECK(store::fts_query("a ***").error().message == "Invalid search text: *** has no letters or digits to search for");
    CHECK(store::fts_query("\"- -\"").error().message == "Invalid search text: \"- -\" has no letters or digits to search for");
    CHECK(*store::fts_query("x') OR 1=1; DROP TABLE quarantine;") ==
          "\"x')\" \"OR\" \"1=1;\" \"DROP\" \"TABLE\" \"quarantine;\"");
    CHECK(store::fts_query("a b c d e f g h i j k l m n o p q r s t u v w x y z 1 2 3 4 5 6 7").error().message ==
          "Invalid search text: more than 32 words");
    CHECK(*store::fts_query("pre* \"two words\"* x\"y\"") == "\"pre\"* \"two words\"* \"x\" \"y\"");
    CHECK(w.ids({.text = "x') OR 1=1; DROP TABLE quarantine;"}).empty());
    CHECK(count(w.db, "SELECT count(*) FROM quarantine") == 4);

    // Held and released.
    CHECK(w.ids({.state = store::HeldState::Held}) == Ids{d, c, b, a});
    REQUIRE(store::mark_released(w.db, b, {"bob@site.example"}, "root", "").ok());
    CHECK(w.ids({.state = store::HeldState::Released}).empty());  // carol's copy of b is still held
    CHECK(w.get(b).held());
    REQUIRE(store::mark_released(w.db, b, {"carol@site.example"}, "root", "").ok());
    CHECK(w.ids({.state = store::HeldState::Released}) == Ids{b});
    CHECK(w.ids({.state = store::HeldState::Held}) == Ids{d, c, a});
    CHECK_FALSE(w.get(b).held());

    // The index follows changes and deletes (triggers).
    REQUIRE(w.db.exec(fmt::format("UPDATE quarantine SET subject = 'Sundial offer' WHERE id = {}", a)).ok());
    CHECK(w.ids({.text = "watches"}).empty());
    CHECK(w.ids({.text = "sundial"}) == Ids{a});
    REQUIRE(*store::delete_quarantined(w.db, w.qdir, a));
    CHECK(w.ids({.text = "sundial"}).empty());
    REQUIRE(w.db.exec("INSERT INTO quarantine_fts (quarantine_fts) VALUES ('integrity-check')").ok());
}

TEST_CASE("quarantine schema: upgrading from version 3 indexes the messages already there") {
    TempDir t("pmx-qa");
    {
        auto db = open_db(t.path / "pmx.db", {.migrate = false});
        REQUIRE(db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_us BIGINT NOT NULL,"
                        " description TEXT NOT NULL)").ok());
        for (const auto& m : store::migrations()) {
            if (m.version > 3) break;
            REQUIRE(db.exec(m.sql).ok());
            REQUIRE(db.exec(fmt::format("INSERT INTO schema_migrations VALUES ({}, 0, 'x')", m.version)).ok());
        }
        REQUIRE(db.exec("INSERT INTO quarantine (id, time_us, file, size, sender, subject) "
                        "VALUES (7, 1, '2026/11/25/x.eml', 1, 'old@sender.example', 'Kept from before')").ok());
        REQUIRE(db.exec("INSERT INTO quarantine_recipient VALUES (7, 'bob@site.example')").ok());
    }
    auto db = open_db(t.path / "pmx.db");
    CHECK(*db.schema_version() >= 4);
    auto found = store::search_quarantine(db, t.path, {.text = "kept"});
    REQUIRE(found.ok());
    REQUIRE(found->size() == 1);
    CHECK(found->front().id == 7);
    REQUIRE(found->front().states.size() == 1);
    CHECK_FALSE(found->front().states[0].released_us);  // held, as before
}

TEST_CASE("quarantine release: per recipient, queued first, recorded, never sent twice") {
    World w;
    auto id = w.add(meta("Promo@Shop.example", {"bob@site.example", "carol@site.example", "dave@site.example"},
                         "Held for three", 9.0, t0), "the body\r\n");
    const std::string stored = *read_file(w.get(id).path);

    // Only bob (typed in another case, in angle brackets), allow-listing the sender for him.
    auto r = quarantine::release(w.db, w.places(),
                                 {.id = id, .recipients = {"<BOB@site.example>"}, .allow_sender = true, .actor = "root"});
    REQUIRE(r.ok());
    CHECK(r->released == std::vector<std::string>{"bob@site.example"});
    CHECK(r->already_released.empty());
    auto spooled = w.spooled();
    REQUIRE(spooled.size() == 1);
    CHECK(spooled[0].first.id == r->queue_entry);
    CHECK(spooled[0].first.kind == "release");
    CHECK(spooled[0].first.reference == fmt::format("quarantine {}", id));
    CHECK(spooled[0].first.sender == "Promo@Shop.example");
    REQUIRE(spooled[0].first.recipients.size() == 1);
    CHECK(spooled[0].first.recipients[0].address == "bob@site.example");
    CHECK(spooled[0].second == stored);  // the message exactly as quarantined

    auto m = w.get(id);
    REQUIRE(m.states.size() == 3);
    CHECK(m.states[0].recipient == "bob@site.example");
    CHECK(m.states[0].released_us.has_value());
    CHECK(m.states[0].released_by == "root");
    CHECK_FALSE(m.states[1].released_us);
    CHECK(m.held());
    auto allow = store::list_entries(w.db, {.kind = store::ListKind::Allow, .owner = "bob@site.example"});
    REQUIRE(allow.ok());
    REQUIRE(allow->size() == 1);
    CHECK((*allow)[0].pattern == "promo@shop.example");
    CHECK(store::list_entries(w.db, {.owner = "carol@site.example"})->empty());  // only for those released

    // Again for bob: nothing sent. Then everyone still held: carol and dave, in one entry.
    r = quarantine::release(w.db, w.places(), {.id = id, .recipients = {"bob@site.example"}, .actor = "alice"});
    REQUIRE(r.ok());
    CHECK(r->released.empty());
    CHECK(r->already_released == std::vector<std::string>{"bob@site.example"});
    CHECK(r->queue_entry.empty());
    CHECK(w.spooled().size() == 1);
    r = quarantine::release(w.db, w.places(), {.id = id, .actor = "alice"});
    REQUIRE(r.ok());
    CHECK(r->released == std::vector<std::string>{"carol@site.example", "dave@site.example"});
    CHECK(r->already_released == std::vector<std::string>{"bob@site.example"});
    spooled = w.spooled();
    REQUIRE(spooled.size() == 2);
    REQUIRE(spooled[1].first.recipients.size() == 2);
    CHECK_FALSE(w.get(id).held());
    r = quarantine::release(w.db, w.places(), {.id = id, .actor = "alice"});
    REQUIRE(r.ok());
    CHECK(r->released.empty());
    CHECK(w.spooled().size() == 2);

    // The audit log: who, what, for whom, which spool entry.
    auto log = w.audit({.message_id = id});
    REQUIRE(log.size() == 2);
    CHECK(log[0].actor == "alice");
    CHECK(log[0].action == "release");
    CHECK(log[0].detail.starts_with("for carol@site.example, dave@site.example (queue entry "));
    CHECK(log[1].actor == "root");
    CHECK(log[1].detail.find("for bob@site.example (queue entry " + spooled[0].first.id + ")") == 0);
    CHECK(log[1].detail.ends_with("; Promo@Shop.example allow-listed"));

    // --to: delivered elsewhere, the recipient counts as released.
    auto id2 = w.add(meta("x@y.example", {"erin@site.example"}, "Redirect me", 6.0, t0));
    r = quarantine::release(w.db, w.places(), {.id = id2, .to = "<admin@site.example>", .actor = "root"});
    REQUIRE(r.ok());
    CHECK(r->released == std::vector<std::string>{"admin@site.example"});
    spooled = w.spooled();
    REQUIRE(spooled.size() == 3);
    CHECK(spooled[2].first.recipients[0].address == "admin@site.example");
    CHECK(w.get(id2).states[0].released_to == "admin@site.example");

    // Errors name what is wrong and send nothing.
    auto bad = quarantine::release(w.db, w.places(), {.id = id2, .recipients = {"mallory@site.example"}, .actor = "root"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message == fmt::format("Failed to release quarantined message {}: it was not held for "
                                             "mallory@site.example (held for erin@site.example)", id2));
    bad = quarantine::release(w.db, w.places(), {.id = 4242, .actor = "root"});
    CHECK(bad.error().message == "No quarantined message with id 4242");
    auto id3 = w.add(meta("x@y.example", {"frank@site.example"}, "bad to", 6.0, t0));
    bad = quarantine::release(w.db, w.places(), {.id = id3, .to = "not an address", .actor = "root"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("is not a user address") != std::string::npos);
    CHECK(w.spooled().size() == 3);
    CHECK(w.get(id3).held());

    // A spool that cannot be written: an error, and the message stays held.
    auto places = w.places();
    places.spool_dir = w.t.write("not-a-dir", "x");
    bad = quarantine::release(w.db, places, {.id = id3, .actor = "root"});
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.starts_with(fmt::format("Failed to release quarantined message {}: ", id3)));
    CHECK(w.get(id3).held());
    CHECK(w.audit({.message_id = id3}).empty());
}

TEST_CASE("quarantine forward and delete: a copy goes, the message stays; delete removes row and file") {
    World w;
    auto id = w.add(meta("a@b.example", {"bob@site.example"}, "Look at this", 5.0, t0));
    auto entry = quarantine::forward(w.db, w.places(), {id, "postmaster@site.example", "root"});
    REQUIRE(entry.ok());
    auto spooled = w.spooled();
    REQUIRE(spooled.size() == 1);
    CHECK(spooled[0].first.kind == "forward");
    CHECK(spooled[0].first.recipients[0].address == "postmaster@site.example");
    CHECK(w.get(id).held());  // unchanged
    auto log = w.audit({.message_id = id});
    REQUIRE(log.size() == 1);
    CHECK(log[0].action == "forward");
    CHECK(log[0].detail == fmt::format("to postmaster@site.example (queue entry {})", *entry));
    CHECK_FALSE(quarantine::forward(w.db, w.places(), {id, "", "root"}).ok());
    CHECK(quarantine::forward(w.db, w.places(), {4242, "a@b.example", "root"}).error().message ==
          "No quarantined message with id 4242");

    auto path = w.get(id).path;
    auto removed = quarantine::remove(w.db, w.qdir, id, "alice");
    REQUIRE(removed.ok());
    CHECK(*removed);
    CHECK_FALSE(fs::exists(path));
    CHECK(count(w.db, "SELECT count(*) FROM quarantine_recipient") == 0);
    CHECK_FALSE(*quarantine::remove(w.db, w.qdir, id, "alice"));
    log = w.audit({.message_id = id});  // the log outlives the message
    REQUIRE(log.size() == 2);
    CHECK(log[0].action == "delete");
    CHECK(log[0].actor == "alice");
    CHECK(log[0].detail == "from a@b.example to bob@site.example, spam: \"Look at this\"");
    CHECK(w.audit({.action = "forward"}).size() == 1);
    CHECK(w.audit({.actor = "nobody"}).empty());
    CHECK(w.audit({.since_us = store::now_us() + hour}).empty());
    CHECK_FALSE(store::record_audit(w.db, {.actor = "", .action = "x"}).ok());
}

TEST_CASE("quarantine export: mboxrd, From_ lines, >From quoting, LF line ends, recorded") {
    World w;
    std::string body = "From the start\r\n>From quoted once\r\nnot From here\r\n>>From twice\r\nFrom\r\nlast line";
    auto a = w.add(meta("alice@x.example", {"bob@site.example"}, "One", 5.0, t0), body);
    auto b = w.add(meta("", {"bob@site.example"}, "Two", 5.0, t0 + hour), "bounce\n");

    CHECK(quarantine::mboxrd_from_line("alice@x.example", t0) == "From alice@x.example Wed Nov 25 10:00:00 2026\n");
    CHECK(quarantine::mboxrd_from_line("", t0) == "From MAILER-DAEMON Wed Nov 25 10:00:00 2026\n");
    CHECK(quarantine::mboxrd_from_line("a b@c", t0 + 10 * 24 * hour).starts_with("From a_b@c Sat Dec  5 "));

    auto out = w.t.path / "out.mbox";
    auto r = quarantine::export_mbox(w.db, {w.get(a), w.get(b)}, out, "root");
    REQUIRE(r.ok());
    CHECK(r->messages == 2);
    auto text = *read_file(out);
    CHECK(r->bytes == text.size());
    CHECK(text ==
          "From alice@x.example Wed Nov 25 10:00:00 2026\n"
          "From: alice@x.example\nSubject: One\n\n"
          ">From the start\n>>From quoted once\nnot From here\n>>>From twice\nFrom\nlast line\n\n"
          "From MAILER-DAEMON Wed Nov 25 11:00:00 2026\n"
          "From: \nSubject: Two\n\nbounce\n\n");
    struct stat st {};
    REQUIRE(::stat(out.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(w.audit({.action = "export"}).size() == 2);
    CHECK(w.audit({.message_id = a})[0].detail == "to " + out.string());

    // A message file gone: an error, and no half-written mbox (the old one stays).
    auto gone = w.get(b);
    fs::remove(gone.path);
    auto bad = quarantine::export_mbox(w.db, {w.get(a), gone}, out, "root");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.starts_with(fmt::format("Failed to export quarantined message {}: Failed to open", b)));
    CHECK(*read_file(out) == text);
    for (const auto& e : fs::directory_iterator(w.t.path))
        CHECK_MESSAGE(!e.path().filename().string().ends_with(".tmp"), "left behind: " << e.path());
}

TEST_CASE("quarantine expire: old messages go with an audit entry, stray files are swept, young ones stay") {
    World w;
    const auto now = store::now_us();
    auto old1 = w.add(meta("a@x.example", {"bob@site.example"}, "old one", 5.0, now - 40 * 24 * hour));
    auto old2 = w.add(meta("b@x.example", {"bob@site.example"}, "old two", 5.0, now - 31 * 24 * hour));
    auto young = w.add(meta("c@x.example", {"bob@site.example"}, "young", 5.0, now - 1 * hour));
    auto old_path = w.get(old1).path;
    auto day = old_path.parent_path();

    // Strays: a whole file without a row and an unfinished temporary file, both old; a young stray.
    auto stray = day / "0123456789abcdef0123456789abcdef.eml";
    auto tmp = day / ".fedcba9876543210fedcba9876543210.tmp";
    auto not_ours = day / "README";
    for (const auto& p : {stray, tmp, not_ours}) w.t.write(p.lexically_relative(w.t.path), "partial");
    auto young_stray = w.get(young).path.parent_path() / "00000000000000000000000000000000.eml";
    w.t.write(young_stray.lexically_relative(w.t.path), "young");
    auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * 35);
    for (const auto& p : {stray, tmp, not_ours}) fs::last_write_time(p, old_time);

    auto dry = quarantine::expire(w.db, w.qdir, {.before_us = now - 30 * 24 * hour, .dry_run = true, .actor = "root"});
    REQUIRE(dry.ok());
    CHECK(dry->messages == 2);
    CHECK(dry->strays.files == 1);
    CHECK(dry->strays.temporary == 1);
    CHECK(fs::exists(stray));
    CHECK(w.ids({}).size() == 3);
    CHECK(w.audit().empty());

    auto r = quarantine::expire(w.db, w.qdir,
                                {.before_us = now - 30 * 24 * hour, .actor = "root", .age = "30d"});
    REQUIRE(r.ok());
    CHECK(r->messages == 2);
    CHECK(r->strays.files == 1);
    CHECK(r->strays.temporary == 1);
    CHECK(w.ids({}) == Ids{young});
    CHECK_FALSE(fs::exists(old_path));
    CHECK_FALSE(fs::exists(stray));
    CHECK_FALSE(fs::exists(tmp));
    CHECK(fs::exists(not_ours));     // not a name pmx writes
    CHECK(fs::exists(young_stray));  // younger than the age
    CHECK(fs::exists(w.get(young).path));
    auto log = w.audit();
    REQUIRE(log.size() == 3);
    CHECK(log[0].action == "sweep");
    CHECK(log[0].detail == "1 stray message file and 1 unfinished temporary file (14 bytes) older than 30d");
    CHECK(w.audit({.message_id = old2})[0].action == "expire");
    CHECK(w.audit({.message_id = old1})[0].detail.starts_with("older than 30d: from a@x.example"));

    // The old day's directory is removed once empty; today's never is.
    fs::remove(not_ours);
    r = quarantine::expire(w.db, w.qdir, {.before_us = now - 30 * 24 * hour, .actor = "root"});
    REQUIRE(r.ok());
    CHECK(r->strays.directories >= 1);
    CHECK_FALSE(fs::exists(day));

    // The grace period protects a file the milter has just written, whatever the age says.
    r = quarantine::expire(w.db, w.qdir, {.before_us = now + hour, .actor = "root"});
    REQUIRE(r.ok());
    CHECK(r->messages == 1);
    CHECK(fs::exists(young_stray));
    r = quarantine::expire(w.db, w.qdir, {.before_us = store::now_us() + hour, .actor = "root", .stray_grace_us = 0});
    REQUIRE(r.ok());
    CHECK(r->strays.files == 1);
    CHECK_FALSE(fs::exists(young_stray));
}

namespace {

// A message that tells which one it is and can be checked whole: ~192 KiB so that kills land
// while it is written.
std::string crash_message(int seq) {
    std::string m = fmt::format("X-Seq: {:08}\r\nSubject: crash {}\r\n\r\n", seq, seq);
    std::mt19937 rng(static_cast<unsigned>(seq));
    while (m.size() < 192 * 1024) m += fmt::format("{:016x}\r\n", rng());
    return m + "end\r\n";
}

bool whole(const std::string& text) {
    int seq = 0;
    if (std::sscanf(text.c_str(), "X-Seq: %d", &seq) != 1) return false;
    return text == crash_message(seq);
}

[[noreturn]] void quarantine_forever(const fs::path& db_path, const fs::path& qdir, int first) {
    auto db = store::Database::open(db_path);
    if (!db) _exit(3);
    for (int seq = first;; ++seq) {
        auto m = meta("crash@x.example", {"bob@site.example"}, fmt::format("crash {}", seq), 5.0, 0);
        if (!store::quarantine(*db, qdir, crash_message(seq), m)) _exit(4);
    }
}

}  // namespace

TEST_CASE("quarantine crash safety: SIGKILL while quarantining leaves whole entries, or whole stray files") {
    TempDir t("pmx-qa-crash");
    auto qdir = t.path / "quarantine";
    fs::create_directory(qdir);
    auto db_path = t.path / "pmx.db";
    { open_db(db_path); }  // migrated before any child runs

    std::mt19937 rng(std::random_device{}());
    const int rounds = 12;
    for (int round = 0; round < rounds; ++round) {
        pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) quarantine_forever(db_path, qdir, round * 100000);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 180));
        REQUIRE(::kill(pid, SIGKILL) == 0);
        int status = 0;
        REQUIRE(::waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));  // it was still quarantining, not failed
    }

    auto db = open_db(db_path);
    REQUIRE(db.exec("PRAGMA integrity_check").ok());
    CHECK(count(db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'") == 0);
    REQUIRE(db.exec("INSERT INTO quarantine_fts (quarantine_fts) VALUES ('integrity-check')").ok());
    auto rows = store::search_quarantine(db, qdir, {.limit = 1000000});
    REQUIRE(rows.ok());
    CHECK(rows->size() > 0);
    std::set<std::string> indexed;
    for (const auto& m : *rows) {
        indexed.insert(m.file);
        auto text = read_file(m.path);
        REQUIRE_MESSAGE(text.ok(), "index row " << m.id << " has no file");
        CHECK(whole(*text));
        CHECK(text->size() == m.size);
        CHECK(m.meta.recipients == std::vector<std::string>{"bob@site.example"});
    }
    std::size_t strays = 0, temporary = 0;
    for (const auto& e : fs::recursive_directory_iterator(qdir)) {
        if (!e.is_regular_file()) continue;
        auto relative = e.path().lexically_relative(qdir).string();
        auto name = e.path().filename().string();
        if (name.ends_with(".tmp")) {
            ++temporary;  // an unfinished write: any length, never under its final name
            continue;
        }
        if (indexed.count(relative)) continue;
        ++strays;
        CHECK_MESSAGE(whole(*read_file(e.path())), relative << " is a stray file, but not whole");
    }
    MESSAGE(fmt::format("{} rounds: {} messages indexed, {} whole stray files, {} unfinished temporary files", rounds,
                        rows->size(), strays, temporary));

    auto swept = store::sweep_stray_files(db, qdir, {.before_us = store::now_us() + hour, .grace_us = 0});
    REQUIRE(swept.ok());
    CHECK(swept->files == strays);
    CHECK(swept->temporary == temporary);
    std::size_t left = 0;
    for (const auto& e : fs::recursive_directory_iterator(qdir))
        if (e.is_regular_file()) {
            ++left;
            CHECK(indexed.count(e.path().lexically_relative(qdir).string()) == 1);
        }
    CHECK(left == rows->size());
}
