// Reports (lib/report): consolidation of a synthetic message log into hourly and daily tables,
// each report's numbers, and CSV/JSON output.
#include <doctest/doctest.h>

#include "report/consolidate.hpp"
#include "report/report_format.hpp"
#include "report/reports.hpp"
#include "store/message_log.hpp"
#include "temp_dir.hpp"

using namespace pmx;
using namespace pmx::report;
using pmx::policy::Outcome;

namespace {

constexpr std::int64_t s_us = 1000000;
constexpr std::int64_t T0 = 1728000000LL * s_us;  // 2024-10-04 00:00:00 UTC: a day start

store::Database open_db(const pmx::test::TempDir& t) {
    auto db = store::Database::open(t.path / "pmx.db");
    REQUIRE(db.ok());
    return std::move(*db);
}

void log(store::Database& db, std::int64_t time, std::string ip, std::string sender, std::optional<double> score,
         std::vector<std::string> rules, std::vector<store::LogRecipient> rcpts, std::uint64_t size = 100) {
    store::LogEntry e;
    e.time_us = time;
    e.client_ip = std::move(ip);
    e.sender = std::move(sender);
    e.score = score;
    e.rules = std::move(rules);
    e.recipients = std::move(rcpts);
    e.size = size;
    e.elapsed_us = 2000;
    REQUIRE(store::append_log(db, e).ok());
}

void sample(store::Database& db) {
    log(db, T0 + 600 * s_us, "192.0.2.1", "Alice@example.test", 1.0, {"R1", "R2"},
        {{"bob@example.test", Outcome::Accept, "", ""}});
    log(db, T0 + 3600 * s_us - 1, "192.0.2.9", "spammer@bad.test", 12.0, {"R2"},
        {{"x@example.test", Outcome::Reject, "spam", "550 5.7.1 go away"},
         {"y@example.test", Outcome::Quarantine, "spam", "spam"}});
    log(db, T0 + 3600 * s_us, "192.0.2.9", "", std::nullopt, {},
        {{"bob@example.test", Outcome::Reject, "virus", "550 5.7.1 Message contains a virus (Eicar-Test-Signature)"}},
        300);
    log(db, T0 + day_us + 300 * s_us, "192.0.2.1", "alice@example.test", 0.0, {},
        {{"carol@example.test", Outcome::Tempfail, "", "451 4.3.0 later"}});
}

Report run(store::Database& db, std::string name, std::string by = "hour", std::int64_t from = T0,
           std::int64_t to = T0 + 2 * day_us) {
    Query q;
    q.name = std::move(name);
    q.by = std::move(by);
    q.from_us = from;
    q.to_us = to;
    auto r = run_report(db, q);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return *r;
}

std::string cell(const Report& r, std::size_t row, std::string_view column) {
    REQUIRE(row < r.rows.size());
    for (std::size_t i = 0; i < r.columns.size(); ++i)
        if (r.columns[i].name == column) return r.rows[row][i];
    FAIL("no column " << column);
    return {};
}

std::int64_t one(store::Database& db, std::string_view sql) {
    auto s = db.prepare(sql);
    REQUIRE(s.ok());
    auto row = s->step();
    REQUIRE((row.ok() && *row));
    return s->int64(0);
}

}  // namespace

TEST_CASE("report period_start floors to UTC hours and days, also before 1970") {
    CHECK(period_start(T0 + 3599 * s_us, hour_us) == T0);
    CHECK(period_start(T0 + day_us - 1, day_us) == T0);
    CHECK(period_start(-1, hour_us) == -hour_us);
    CHECK(period_label(T0 + hour_us) == "2024-10-04T01:00:00Z");
}

TEST_CASE("report consolidate counts verdicts, spam and viruses per UTC hour and day") {
    pmx::test::TempDir t("pmx-report");
    auto db = open_db(t);
    sample(db);
    auto s = consolidate(db, T0 + day_us + 1800 * s_us);
    REQUIRE_MESSAGE(s.ok(), s.error().message);
    CHECK(s->log_rows == 4);
    CHECK(s->hours == 25);
    CHECK(s->days == 2);
    CHECK(s->final_until_us == T0 + day_us);

    auto v = run(db, "verdicts");
    REQUIRE(v.rows.size() == 3);  // the hour boundary at T0+1h splits messages 2 and 3
    CHECK(cell(v, 0, "period") == "2024-10-04T00:00:00Z");
    CHECK(cell(v, 0, "messages") == "2");
    CHECK(cell(v, 0, "recipients") == "3");
    CHECK(cell(v, 0, "accepted") == "1");
    CHECK(cell(v, 0, "rejected") == "1");
    CHECK(cell(v, 0, "quarantined") == "1");
    CHECK(cell(v, 1, "period") == "2024-10-04T01:00:00Z");
    CHECK(cell(v, 1, "rejected") == "1");
    CHECK(cell(v, 2, "tempfailed") == "1");

    auto d = run(db, "verdicts", "day");
    REQUIRE(d.rows.size() == 2);
    CHECK(cell(d, 0, "messages") == "3");
    CHECK(cell(d, 1, "messages") == "1");

    auto rates = run(db, "rates", "day");
    CHECK(cell(rates, 0, "spam") == "1");
    CHECK(cell(rates, 0, "virus") == "1");
    CHECK(cell(rates, 0, "spam_pct") == "33.33");
    CHECK(cell(rates, 0, "bytes") == "500");
    CHECK(cell(rates, 0, "avg_scan_ms") == "2.0");

    auto spam = run(db, "top-spam-relays");
    REQUIRE(spam.rows.size() == 1);
    CHECK(spam.rows[0] == std::vector<std::string>{"192.0.2.9", "1"});
    auto virus = run(db, "top-virus-relays");
    REQUIRE(virus.rows.size() == 1);
    CHECK(virus.rows[0] == std::vector<std::string>{"192.0.2.9", "1"});
    auto relays = run(db, "top-relays");
    CHECK(relays.rows[0] == std::vector<std::string>{"192.0.2.1", "2"});
    auto senders = run(db, "top-senders");
    CHECK(senders.rows[0] == std::vector<std::string>{"alice@example.test", "2"});  // lowercased
    CHECK(senders.rows.size() == 3);
    auto rcpts = run(db, "top-recipients");
    CHECK(rcpts.rows[0] == std::vector<std::string>{"bob@example.test", "2"});
    auto viruses = run(db, "top-viruses");
    REQUIRE(viruses.rows.size() == 1);
    CHECK(viruses.rows[0] == std::vector<std::string>{"Eicar-Test-Signature", "1"});
    auto rules = run(db, "top-rules");
    REQUIRE(rules.rows.size() == 2);
    CHECK(rules.rows[0] == std::vector<std::string>{"R2", "2"});
    CHECK(rules.rows[1] == std::vector<std::string>{"R1", "1"});
    // Top-N from the daily tables gives the same, and --limit cuts.
    auto rules_day = run(db, "top-rules", "day");
    CHECK(rules_day.rows == rules.rows);
    Query q{"top-senders", T0, T0 + 2 * day_us, "hour", 1, {}};
    CHECK(run_report(db, q)->rows.size() == 1);
    // A range: only the second hour.
    auto second = run(db, "top-senders", "hour", T0 + hour_us, T0 + 2 * hour_us);
    REQUIRE(second.rows.size() == 1);
    CHECK(second.rows[0][0] == "<>");
}

TEST_CASE("report consolidate is idempotent and incremental") {
    pmx::test::TempDir t("pmx-report");
    auto db = open_db(t);
    sample(db);
    std::int64_t now = T0 + day_us + 1800 * s_us;
    REQUIRE(consolidate(db, now).ok());
    auto periods = one(db, "SELECT count(*) FROM report_period");
    auto counts = one(db, "SELECT count(*) FROM report_count");
    auto before = run(db, "verdicts");

    // Again, everything from the start: replaced, not added.
    ConsolidateOptions all;
    all.rebuild_from_us = T0;
    REQUIRE(consolidate(db, now, all).ok());
    CHECK(one(db, "SELECT count(*) FROM report_period") == periods);
    CHECK(one(db, "SELECT count(*) FROM report_count") == counts);
    CHECK(run(db, "verdicts").rows == before.rows);

    // The next run redoes only the open hours: one from the final mark on.
    auto again = consolidate(db, now + 60 * s_us);
    REQUIRE(again.ok());
    CHECK(again->from_us == T0 + day_us);
    CHECK(again->hours == 1);
    CHECK(again->log_rows == 1);

    // A message in the open hour is counted by the next run; one in a final hour is not,
    // until a rebuild.
    log(db, T0 + day_us + 1000 * s_us, "192.0.2.1", "late@example.test", 0.0, {},
        {{"bob@example.test", Outcome::Accept, "", ""}});
    log(db, T0 + 2 * hour_us, "192.0.2.1", "old@example.test", 0.0, {}, {{"bob@example.test", Outcome::Accept, "", ""}});
    REQUIRE(consolidate(db, now + 120 * s_us).ok());
    auto d = run(db, "verdicts", "day");
    CHECK(cell(d, 0, "messages") == "3");
    CHECK(cell(d, 1, "messages") == "2");
    REQUIRE(consolidate(db, now + 180 * s_us, all).ok());
    d = run(db, "verdicts", "day");
    CHECK(cell(d, 0, "messages") == "4");
    CHECK(cell(d, 1, "messages") == "2");
}

TEST_CASE("report quarantine size and IP Blocker blocks") {
    pmx::test::TempDir t("pmx-report");
    auto db = open_db(t);
    REQUIRE(db.exec("INSERT INTO quarantine (id, time_us, file, size) VALUES "
                    "(1, " + std::to_string(T0 + 100 * s_us) + ", 'a', 1000), "
                    "(2, " + std::to_string(T0 + hour_us + 5) + ", 'b', 500), "
                    "(3, " + std::to_string(T0 + hour_us + 9) + ", 'c', 70);"
                    "INSERT INTO quarantine_recipient (message_id, recipient) VALUES (1, 'a@x'), (2, 'b@x'), (3, 'c@x');"
                    "UPDATE quarantine_recipient SET released_us = 1 WHERE message_id = 3;"
                    "INSERT INTO ipblock_event (time_us, network, action) VALUES "
                    "(" + std::to_string(T0 + 10) + ", '192.0.2.66', 'block'), "
                    "(" + std::to_string(T0 + 20) + ", '192.0.2.66', 'unblock'), "
                    "(" + std::to_string(T0 + hour_us) + ", '192.0.2.66', 'block'), "
                    "(" + std::to_string(T0 + hour_us) + ", '198.51.100.0/24', 'block');")
                .ok());
    REQUIRE(consolidate(db, T0 + 3 * hour_us).ok());
    auto q = run(db, "quarantine-size");
    REQUIRE(q.rows.size() == 4);  // the quarantine holds mail in every hour after the first
    CHECK(cell(q, 0, "stored") == "1");
    CHECK(cell(q, 0, "held") == "1");
    CHECK(cell(q, 0, "held_bytes") == "1000");
    CHECK(cell(q, 1, "stored") == "2");
    CHECK(cell(q, 1, "stored_bytes") == "570");
    CHECK(cell(q, 1, "held") == "2");  // message 3 was released
    CHECK(cell(q, 2, "held_bytes") == "1500");
    auto qd = run(db, "quarantine-size", "day");
    CHECK(cell(qd, 0, "held") == "2");
    auto b = run(db, "ipblocks");
    CHECK(cell(b, 0, "blocks") == "1");
    CHECK(cell(b, 1, "blocks") == "2");
    auto top = run(db, "top-blocked");
    CHECK(top.rows[0] == std::vector<std::string>{"192.0.2.66", "2"});
}

TEST_CASE("report CSV quotes per RFC 4180 and JSON types numbers") {
    CHECK(csv_field("plain") == "plain");
    CHECK(csv_field("a,b") == "\"a,b\"");
    CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
    CHECK(csv_field("two\nlines") == "\"two\nlines\"");
    CHECK(csv_field(" pad") == "\" pad\"");
    Report r{"x", {{"sender", false}, {"count", true}}, {{"\"odd\",name", "3"}}};
    CHECK(to_csv(r) == "sender,count\r\n\"\"\"odd\"\",name\",3\r\n");
    CHECK(to_json(r) == "[{\"sender\":\"\\\"odd\\\",name\",\"count\":3}]\n");
    CHECK(find_report("top-senders") != nullptr);
    CHECK(find_report("nope") == nullptr);
    pmx::test::TempDir t("pmx-report");
    auto db = open_db(t);
    Query q;
    q.name = "nope";
    CHECK(!run_report(db, q).ok());
}
