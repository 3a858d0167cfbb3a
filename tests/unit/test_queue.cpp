// The Queue Runner's spool (entry format, states, locking, crash-safe rewrites), the retry
// rules and the message as it goes out. The daemon and real SMTP: tests/integration/test_queue.sh.
#include <doctest/doctest.h>

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "config/loader.hpp"
#include "queue/outgoing.hpp"
#include "queue/retry.hpp"
#include "queue/spool.hpp"
#include "queue/submit.hpp"
#include "temp_dir.hpp"
#include "util/atomic_file.hpp"

using namespace pmx;
using namespace pmx::queue;

namespace {

Envelope envelope(std::vector<std::string> rcpts) {
    return Envelope{.sender = "alice@example.org", .recipients = std::move(rcpts), .kind = "release",
                    .reference = "quarantine 42"};
}

smtp::Result result_of(std::vector<std::pair<std::string, int>> replies) {
    smtp::Result r;
    for (auto& [rcpt, code] : replies)
        r.recipients.push_back(smtp::RecipientResult{rcpt, smtp::Reply{code, code ? "text of " + std::to_string(code) : "connection refused"}});
    return r;
}

}  // namespace

TEST_CASE("queue: entry ids are unique, valid and sort by time") {
    auto a = new_entry_id(1000);
    auto b = new_entry_id(1000);
    auto c = new_entry_id(2000);
    CHECK(valid_entry_id(a));
    CHECK(a != b);
    CHECK(a < c);
    CHECK_FALSE(valid_entry_id("../etc/passwd"));
    CHECK_FALSE(valid_entry_id(a + "x"));
    CHECK_FALSE(valid_entry_id(""));
}

TEST_CASE("queue: header round-trips, escapes and rejects damage") {
    Entry e;
    e.id = new_entry_id(5);
    e.kind = "release";
    e.reference = "line\nbreak \\ and more";
    e.sender = "";
    e.submitted_us = 123;
    e.attempts = 2;
    e.last_error = "451 4.3.0 later";
    e.message_bytes = 10;
    e.recipients = {{.address = "bob@example.org", .status = RcptStatus::Delivered, .code = 250, .done_us = 7, .reply = "250 ok"},
                    {.address = "\"odd name\"@example.org", .status = RcptStatus::Pending, .code = 451, .done_us = 0, .reply = ""}};
    std::string text = render_header(e);
    std::size_t n = 0;
    auto back = parse_header(text + "message", &n);
    REQUIRE(back);
    CHECK(n == text.size());
    CHECK(back->reference == e.reference);
    CHECK(back->sender.empty());
    CHECK(back->attempts == 2);
    REQUIRE(back->recipients.size() == 2);
    CHECK(back->recipients[0].status == RcptStatus::Delivered);
    CHECK(back->recipients[0].reply == "250 ok");
    CHECK(back->recipients[1].address == "\"odd name\"@example.org");
    CHECK(back->recipients[1].code == 451);

    CHECK_FALSE(parse_header("garbage\n\n", nullptr));
    CHECK_FALSE(parse_header(text.substr(0, text.size() - 1), nullptr));  // no empty line
    CHECK_FALSE(parse_header("pmx-queue-entry 1\nid: x\nattempts: many\nrcpt: pending 0 0 a@b\n\n", nullptr));
    CHECK_FALSE(parse_header("pmx-queue-entry 1\nid: x\n\n", nullptr));  // no recipients
    CHECK_FALSE(parse_header("pmx-queue-entry 1\nid: x\nrcpt: maybe 0 0 a@b\n\n", nullptr));
    // Unknown keys from a newer writer are ignored.
    CHECK(parse_header("pmx-queue-entry 1\nid: x\nfuture: 1\nrcpt: pending 0 0 a@b\n\n", nullptr));
}

TEST_CASE("queue: submit writes one complete entry into incoming, nothing left in tmp") {
    test::TempDir t;
    auto spool_dir = t.path / "spool";
    auto id = submit(spool_dir, envelope({"bob@example.org", "carol@example.org"}), "Subject: hi\n\nbody\n");
    REQUIRE(id);
    Spool spool(spool_dir);
    CHECK(spool.locate(*id) == State::Incoming);
    CHECK(std::filesystem::is_empty(spool.tmp_dir()));
    auto f = spool.open(State::Incoming, *id);
    REQUIRE(f);
    CHECK(f->entry().kind == "release");
    CHECK(f->entry().recipients.size() == 2);
    auto msg = f->read_message();
    REQUIRE(msg);
    CHECK(*msg == "Subject: hi\n\nbody\n");

    auto file = t.write("m.eml", "Subject: from file\r\n\r\nx\r\n");
    auto id2 = submit_file(spool_dir, envelope({"bob@example.org"}), file);
    REQUIRE(id2);
    auto f2 = spool.open(State::Incoming, *id2);
    REQUIRE(f2);
    CHECK(*f2->read_message() == "Subject: from file\r\n\r\nx\r\n");
    auto ids = spool.ids(State::Incoming);
    REQUIRE(ids);
    CHECK(ids->size() == 2);
    CHECK((*ids)[0] == *id);  // oldest first
}

TEST_CASE("queue: submit refuses bad envelopes with a clear error") {
    test::TempDir t;
    auto r = submit(t.path, envelope({}), "x\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("no recipients") != std::string::npos);
    r = submit(t.path, envelope({"bob@example.org\r\nRCPT TO:<evil@x>"}), "x\n");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("invalid recipient") != std::string::npos);
    r = submit(t.path, envelope({"bob@example.org"}), "");
    CHECK_FALSE(r);
    r = submit_file(t.path, envelope({"bob@example.org"}), t.path / "missing.eml");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("missing.eml") != std::string::npos);
}

TEST_CASE("queue: a damaged entry is reported, not trusted") {
    test::TempDir t;
    Spool spool(t.path);
    auto id = submit(t.path, envelope({"bob@example.org"}), "Subject: x\n\nbody\n");
    REQUIRE(id);
    // Truncate the message part: the header's size no longer matches.
    auto p = spool.path(State::Incoming, *id);
    std::filesystem::resize_file(p, std::filesystem::file_size(p) - 3);
    auto f = spool.open(State::Incoming, *id);
    REQUIRE(f);
    CHECK_FALSE(f->read_message());
    REQUIRE(write_file_atomically(spool.path(State::Incoming, new_entry_id(9)), "not an entry\n"));
    auto listed = spool.list(std::nullopt);
    REQUIRE(listed);
    CHECK(listed->size() == 2);
    bool saw_problem = false;
    for (const auto& le : *listed) saw_problem |= !le.problem.empty();
    CHECK(saw_problem);
}

TEST_CASE("queue: lock, rewrite and move keep exactly one copy and the message") {
    test::TempDir t;
    Spool spool(t.path);
    auto id = submit(t.path, envelope({"bob@example.org"}), "Subject: x\n\nbody\n");
    REQUIRE(id);
    auto f = spool.lock(State::Incoming, *id);
    REQUIRE(f);
    // Another opener cannot lock it meanwhile.
    Spool::LockFailure why{};
    auto other = spool.lock(State::Incoming, *id, &why);
    CHECK_FALSE(other);
    CHECK(why == Spool::LockFailure::Busy);

    REQUIRE(spool.move(*f, State::Active, false));
    CHECK(spool.locate(*id) == State::Active);
    f->entry().attempts = 1;
    f->entry().last_error = "451 later";
    REQUIRE(spool.rewrite(*f, State::Deferred, true, 4'000'000'000'000'000));
    CHECK(spool.locate(*id) == State::Deferred);
    CHECK_FALSE(std::filesystem::exists(spool.path(State::Active, *id)));
    CHECK(std::filesystem::is_empty(spool.tmp_dir()));
    auto with = spool.ids_with_mtime(State::Deferred);
    REQUIRE(with);
    REQUIRE(with->size() == 1);
    CHECK((*with)[0].second == 4'000'000'000'000'000);  // the next attempt, kept as mtime
    // Still locked after the rewrite (the new file).
    other = spool.lock(State::Deferred, *id, &why);
    CHECK(why == Spool::LockFailure::Busy);
    f = spool.lock(State::Incoming, *id, &why);  // not there any more
    CHECK(why == Spool::LockFailure::Gone);
}

TEST_CASE("queue: a name that moved between open and lock is reported gone") {
    test::TempDir t;
    Spool spool(t.path);
    auto id = submit(t.path, envelope({"bob@example.org"}), "Subject: x\n\nbody\n");
    REQUIRE(id);
    Spool::LockFailure why{};
    auto f = spool.lock(State::Deferred, *id, &why);
    CHECK_FALSE(f);
    CHECK(why == Spool::LockFailure::Gone);
    auto g = spool.lock(State::Incoming, *id, &why);
    REQUIRE(g);
    auto msg = g->read_message();
    REQUIRE(msg);
    REQUIRE(spool.remove(*g));
    CHECK_FALSE(spool.locate(*id));
}

TEST_CASE("queue: backoff doubles from the minimum up to the maximum") {
    RetryPolicy p{.min_us = 10, .max_us = 100, .max_attempts = 5, .max_age_us = 1000};
    CHECK(backoff_us(p, 1) == 10);
    CHECK(backoff_us(p, 2) == 20);
    CHECK(backoff_us(p, 3) == 40);
    CHECK(backoff_us(p, 4) == 80);
    CHECK(backoff_us(p, 5) == 100);
    CHECK(backoff_us(p, 60) == 100);
}

TEST_CASE("queue: per recipient results: delivered, failed for good, deferred") {
    RetryPolicy p{.min_us = 10, .max_us = 100, .max_attempts = 5, .max_age_us = 100000};
    Entry e;
    e.submitted_us = 1000;
    e.recipients = {{.address = "a@x"}, {.address = "b@x"}, {.address = "c@x"}};
    auto attempted = e.pending_recipients();
    auto out = apply_result(e, attempted, result_of({{"a@x", 250}, {"b@x", 550}, {"c@x", 451}}), p, 2000);
    CHECK(out.next == State::Deferred);
    CHECK(out.delivered == 1);
    CHECK(out.failed == 1);
    CHECK(out.deferred == 1);
    CHECK(e.attempts == 1);
    CHECK(e.next_attempt_us == 2010);
    CHECK(e.recipients[0].status == RcptStatus::Delivered);
    CHECK(e.recipients[1].status == RcptStatus::Failed);
    CHECK(e.recipients[2].status == RcptStatus::Pending);
    CHECK(e.last_error == "550 text of 550");

    // The next attempt only sends c@x; it gets through; one recipient failed: the entry is failed.
    attempted = e.pending_recipients();
    REQUIRE(attempted == std::vector<std::string>{"c@x"});
    out = apply_result(e, attempted, result_of({{"c@x", 250}}), p, 2010);
    CHECK(out.next == State::Failed);
    CHECK(e.count(RcptStatus::Delivered) == 2);
}

TEST_CASE("queue: all delivered is sent; connection failures are temporary") {
    RetryPolicy p{.min_us = 10, .max_us = 100, .max_attempts = 5, .max_age_us = 100000};
    Entry e;
    e.recipients = {{.address = "a@x"}, {.address = "b@x"}};
    auto out = apply_result(e, e.pending_recipients(), result_of({{"a@x", 0}, {"b@x", 0}}), p, 50);
    CHECK(out.next == State::Deferred);
    CHECK(e.last_error == "connection refused");
    out = apply_result(e, e.pending_recipients(), result_of({{"a@x", 250}, {"b@x", 251}}), p, 60);
    CHECK(out.next == State::Sent);
    CHECK(e.last_error.empty());
}

TEST_CASE("queue: gives up after max attempts or max age, never retries a 5xx") {
    RetryPolicy p{.min_us = 10, .max_us = 100, .max_attempts = 3, .max_age_us = 100000};
    Entry e;
    e.recipients = {{.address = "a@x"}};
    for (int i = 0; i < 2; ++i)
        CHECK(apply_result(e, e.pending_recipients(), result_of({{"a@x", 421}}), p, 100 + i).next == State::Deferred);
    auto out = apply_result(e, e.pending_recipients(), result_of({{"a@x", 421}}), p, 200);
    CHECK(out.next == State::Failed);
    CHECK(out.gave_up);
    CHECK(e.recipients[0].status == RcptStatus::Failed);
    CHECK(e.last_error.find("gave up after 3 attempts") == 0);

    Entry old;
    old.submitted_us = 0;
    old.recipients = {{.address = "a@x"}};
    RetryPolicy young{.min_us = 10, .max_us = 100, .max_attempts = 100, .max_age_us = 500};
    out = apply_result(old, old.pending_recipients(), result_of({{"a@x", 451}}), young, 495);
    CHECK(out.next == State::Deferred);
    CHECK(old.next_attempt_us == 500);  // one last attempt when the age limit comes
    out = apply_result(old, old.pending_recipients(), result_of({{"a@x", 451}}), young, 500);
    CHECK(out.next == State::Failed);
    // A `pmx queue retry` moves the start of the age.
    old.recipients[0].status = RcptStatus::Pending;
    old.requeued_us = 1000;
    old.attempts = 0;
    CHECK(apply_result(old, old.pending_recipients(), result_of({{"a@x", 451}}), young, 1100).next == State::Deferred);

    Entry hard;
    hard.recipients = {{.address = "a@x"}};
    out = apply_result(hard, hard.pending_recipients(), result_of({{"a@x", 554}}), p, 10);
    CHECK(out.next == State::Failed);
    CHECK_FALSE(out.gave_up);
}

TEST_CASE("queue: outgoing message gets the stamp first, loses old stamps, keeps line ends") {
    std::string crlf = "Subject: s\r\nX-PMX-Reinjected: old\r\n  folded\r\nMessage-ID:\r\n <m1@example.org>\r\n\r\nX-PMX-Reinjected: body\r\n";
    CHECK(find_message_id(crlf) == "<m1@example.org>");
    auto out = prepare_outgoing(crlf, "NEW", "");
    CHECK(out == "X-PMX-Reinjected: NEW\r\nSubject: s\r\nMessage-ID:\r\n <m1@example.org>\r\n\r\nX-PMX-Reinjected: body\r\n");

    std::string lf = "Subject: s\n\nbody\n";
    CHECK(find_message_id(lf).empty());
    auto mid = make_message_id("0001-aa", "gw.example.org");
    CHECK(mid == "<0001-aa.pmx-queued@gw.example.org>");
    out = prepare_outgoing(lf, "S", mid);
    CHECK(out == "X-PMX-Reinjected: S\nMessage-ID: <0001-aa.pmx-queued@gw.example.org>\nSubject: s\n\nbody\n");
    // Only a header, no body.
    CHECK(prepare_outgoing("x-pmx-reinjected: a\n", "S", "") == "X-PMX-Reinjected: S\n");
}

TEST_CASE("queue: spool directory from the configuration") {
    test::TempDir t;
    auto snap = config::load_files({t.write("pmx.toml", "[queue]\nspool_dir = \"/srv/spool\"\n")});
    REQUIRE(snap);
    CHECK(spool_directory(*snap) == "/srv/spool");
    auto rel = config::load_files({t.write("rel.toml", "[queue]\nspool_dir = \"spool\"\n")});
    REQUIRE(rel);
    CHECK(spool_directory(*rel).filename() == "spool");
    CHECK(spool_directory(*rel).is_absolute());
    auto p = retry_policy(*snap);
    CHECK(p.min_us == 300'000'000);
}
