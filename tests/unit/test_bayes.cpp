// Unit tests: bayes. The tokenizer on built messages, the combining math on values worked out
// by hand, and learning, forgetting, per-user counts and expiry on a real SQLite file.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.hpp"
#include "mail/mime.hpp"
#include "spam/bayes/bayes.hpp"
#include "store/database.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx;
using namespace pmx::spam::bayes;

namespace {

using pmx::test::TempDir;

store::Database open_db(const fs::path& p) {
    auto db = store::Database::open(p);
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

bool has(const std::vector<std::string>& v, std::string_view t) { return std::find(v.begin(), v.end(), t) != v.end(); }

std::string message(std::string_view id, std::string_view subject, std::string_view body,
                    std::string_view from = "Alice <alice@example.org>") {
    std::string m;
    m += "From: " + std::string(from) + "\n";
    m += "To: bob@example.net\n";
    if (!id.empty()) m += "Message-ID: <" + std::string(id) + ">\n";
    m += "Subject: " + std::string(subject) + "\n";
    m += "Content-Type: text/plain; charset=utf-8\n\n";
    m += body;
    m += "\n";
    return m;
}

mail::ParsedMessage parse(const std::string& raw) { return mail::parse_message(raw); }

Settings ready_after(std::int64_t n) {
    Settings s;
    s.min_spam = s.min_ham = n;
    return s;
}

LearnOutcome must_learn(store::Database& db, const std::string& raw, Kind k, std::string_view owner = "") {
    auto m = parse(raw);
    auto r = learn(db, m, raw, k, owner);
    if (!r) FAIL(r.error().message);
    return *r;
}

// Ten spam and ten ham messages with their own vocabularies and a few shared words.
void learn_corpus(store::Database& db, std::string_view owner = "") {
    for (int i = 0; i < 10; ++i) {
        must_learn(db,
                   message("spam" + std::to_string(i) + "@bulk.example", "Cheap pills offer",
                           "Buy cheap viagra pills now, limited offer, click http://pills.example.biz/buy today "
                           "winner money " + std::to_string(i),
                           "Pharmacy <sales@bulk.example>"),
                   Kind::Spam, owner);
        must_learn(db,
                   message("ham" + std::to_string(i) + "@work.example", "Meeting notes",
                           "Hi team, the meeting notes for the project review are attached, see you today "
                           "regards " + std::to_string(i),
                           "Carol <carol@work.example>"),
                   Kind::Ham, owner);
    }
}

}  // namespace

TEST_CASE("bayes tokenizer: body words, case, Unicode, lengths") {
    auto m = parse(message("a@b.example", "x",
                           "Hello World FREE money, don't e-mail. Größe ПРИВЕТ 日本語テキスト ab x "
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa $100 3.14"));
    auto t = token_texts(m);
    CHECK(has(t, "hello"));
    CHECK(has(t, "world"));
    CHECK(has(t, "FREE"));  // ALL CAPS keeps its case
    CHECK_FALSE(has(t, "free"));
    CHECK(has(t, "money"));
    CHECK(has(t, "don't"));
    CHECK(has(t, "e-mail"));
    CHECK(has(t, "größe"));   // Latin-1 lowercased
    CHECK(has(t, "привет"));  // Cyrillic lowercased
    CHECK(has(t, "日本"));    // CJK as bigrams
    CHECK(has(t, "本語"));
    CHECK(has(t, "テキ"));
    CHECK_FALSE(has(t, "日本語テキスト"));
    CHECK_FALSE(has(t, "ab"));  // too short
    CHECK(has(t, "skip:a:30"));  // 32 characters: first letter and length in tens
    CHECK(has(t, "$100"));
    CHECK(has(t, "3.14"));
}

TEST_CASE("bayes tokenizer: header tokens, URLs, other filters' headers left out") {
    std::string raw =
        "Received: from mx.example.org (mx.example.org [192.0.2.7]) by gw.example.net with ESMTP id 1\n"
        "From: \"Alice Example\" <Alice@Example.COM>\n"
        "To: bob@example.net, carol@example.net\n"
        "Subject: Cheap MEDS =?utf-8?q?f=C3=BCr?= you\n"
        "Message-ID: <abc123@host.example>\n"
        "X-Mailer: SuperMailer 5.0\n"
        "X-Spam-Status: Yes, score=20\n"
        "Content-Type: text/html; charset=\"iso-8859-1\"\n\n"
        "<html><body><p>Visit <a href=\"http://www.Spam-Site.example.co.uk/path?x=1\">here</a> "
        "or www.other.example/x and https://user@198.51.100.9:8080/y</p></body></html>\n";
    auto t = token_texts(parse(raw));
    CHECK(has(t, "subj:cheap"));
    CHECK(has(t, "subj:MEDS"));
    CHECK(has(t, "subj:für"));  // decoded encoded word
    CHECK(has(t, "from:addr:alice@example.com"));
    CHECK(has(t, "from:dom:example.com"));
    CHECK(has(t, "from:name:alice"));
    CHECK(has(t, "to:count:2"));
    CHECK(has(t, "to:dom:example.net"));
    CHECK(has(t, "rcvd:mx.example.org"));
    CHECK(has(t, "rcvd:example.org"));
    CHECK(has(t, "rcvd:ip:192.0"));
    CHECK(has(t, "rcvd:ip:192.0.2"));
    CHECK(has(t, "rcvd:with:esmtp"));
    CHECK(has(t, "mid:dom:host.example"));
    CHECK(has(t, "xm:supermailer 5.0"));
    CHECK(has(t, "ct:text/html"));
    CHECK(has(t, "ct:charset:iso-8859-1"));
    for (const auto& tok : t) CHECK(tok.find("score") == std::string::npos);  // X-Spam-Status is not read
    CHECK(has(t, "url:www.spam-site.example.co.uk"));
    CHECK(has(t, "url:spam-site.example.co.uk"));
    CHECK(has(t, "url:example.co.uk"));
    CHECK_FALSE(has(t, "url:co.uk"));
    CHECK(has(t, "url:www.other.example"));
    CHECK(has(t, "url:other.example"));
    CHECK(has(t, "url:ip"));
    CHECK(has(t, "url:198.51.100"));
    CHECK(has(t, "html:a"));
    CHECK(has(t, "visit"));  // the HTML's text is read as body words

    // a mailing list's own headers teach only "came through list X" (lists carry spam and ham):
    // List-Id and Sender are not read, as SpamAssassin's Bayes leaves them out
    std::string listed = "List-Id: Irish Linux Users <ilug.linux.ie>\nSender: ilug-admin@linux.ie\n" + raw;
    auto l = token_texts(parse(listed));
    for (const auto& tok : l) {
        CHECK(tok.find("ilug") == std::string::npos);
        CHECK(tok.find("linux.ie") == std::string::npos);
    }
    CHECK(l.size() == t.size());

    // hashed: sorted, unique, one per text (no collisions in so few)
    auto h = tokenize(parse(raw));
    CHECK(std::is_sorted(h.begin(), h.end()));
    CHECK(std::adjacent_find(h.begin(), h.end()) == h.end());
    CHECK(h.size() == t.size());
    CHECK(hash_token("hello") == hash_token("hello"));
    CHECK(hash_token("hello") != hash_token("Hello"));
}

TEST_CASE("bayes tokenizer: hostile input stays bounded") {
    std::string body(3 << 20, 'x');
    for (std::size_t i = 0; i < body.size(); i += 7) body[i] = ' ';
    auto t = tokenize(parse(message("big@x.example", "big", body)));
    CHECK(t.size() < 40000);
    std::string bad = "\xff\xfe\xc3 \xe6\x97 ok word\n";
    CHECK_FALSE(token_texts(parse(message("bad@x.example", "bad", bad))).empty());
    CHECK(tokenize(parse("")).size() > 0);
}

TEST_CASE("bayes combining: Robinson f(w), chi-square, Fisher") {
    CHECK(chi2q(0, 2) == doctest::Approx(1.0));
    CHECK(chi2q(3.0, 2) == doctest::Approx(std::exp(-1.5)));
    CHECK(chi2q(4.0, 4) == doctest::Approx(3.0 * std::exp(-2.0)));  // e^-2 (1 + 2)

    // seen in 1 of 10 spam and none of 10 ham: (0.45 * 0.5 + 1 * 1) / (0.45 + 1)
    Params sb;  // SpamBayes' constants
    sb.strength = 0.45;
    sb.prior = 0.5;
    sb.min_strength = 0.1;
    CHECK(robinson_f({1, 0}, 10, 10, sb) == doctest::Approx(1.225 / 1.45));
    CHECK(robinson_f({0, 0}, 10, 10, sb) == doctest::Approx(0.5));
    CHECK(robinson_f({0, 0}, 10, 10) == doctest::Approx(0.538));  // the default prior
    // default s = 0.16, x = 0.538: (0.16 * 0.538 + 2 * 0) / 2.16
    CHECK(robinson_f({0, 2}, 10, 10) == doctest::Approx(0.16 * 0.538 / 2.16));
    // ratios, not counts: 10 of 100 spam vs 1 of 10 ham is even
    CHECK(robinson_f({10, 1}, 100, 10, sb) == doctest::Approx(0.5));

    CHECK(fisher_combine({}) == doctest::Approx(0.5));
    CHECK(fisher_combine({0.5}) == doctest::Approx(0.5));
    CHECK(fisher_combine({0.9}) == doctest::Approx(0.9));  // one token: itself (2 degrees of freedom)
    double spammy = fisher_combine({0.99, 0.95, 0.9, 0.99});
    double hammy = fisher_combine({0.01, 0.05, 0.1, 0.01});
    CHECK(spammy > 0.99);
    CHECK(hammy < 0.01);
    CHECK(spammy + hammy == doctest::Approx(1.0));  // symmetric
    CHECK(fisher_combine({0.99, 0.01}) == doctest::Approx(0.5));  // evidence both ways: unsure

    // combine drops insignificant tokens and keeps the max_tokens strongest
    std::vector<TokenCounts> tokens = {{5, 5}, {0, 0}, {9, 0}, {6, 4}};  // only {9, 0} is beyond 0.346
    CHECK(combine(tokens, 10, 10) == doctest::Approx(fisher_combine({robinson_f({9, 0}, 10, 10)})));
    Params one;
    one.max_tokens = 1;
    CHECK(combine({{1, 0}, {0, 9}}, 10, 10, one) == doctest::Approx(robinson_f({0, 9}, 10, 10)));
    CHECK(combine({{8, 2}}, 10, 10) == doctest::Approx(0.5));  // 0.796: within 0.346 of 0.5
    CHECK(combine({{8, 2}}, 10, 10, sb) == doctest::Approx(robinson_f({8, 2}, 10, 10, sb)));
}

TEST_CASE("bayes store: learn, already known, relearn, forget") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    std::string spam = message("one@x.example", "Win money", "win cheap money now");
    auto n = tokenize(parse(spam)).size();

    CHECK(must_learn(db, spam, Kind::Spam) == LearnOutcome::Learned);
    CHECK(count(db, "SELECT count(*) FROM bayes_token") == static_cast<std::int64_t>(n));
    CHECK(count(db, "SELECT sum(spam_count) FROM bayes_token") == static_cast<std::int64_t>(n));
    CHECK(must_learn(db, spam, Kind::Spam) == LearnOutcome::AlreadyKnown);
    CHECK(count(db, "SELECT sum(spam_count) FROM bayes_token") == static_cast<std::int64_t>(n));
    CHECK(count(db, "SELECT spam_messages FROM bayes_owner WHERE owner = ''") == 1);

    CHECK(must_learn(db, spam, Kind::Ham) == LearnOutcome::Relearned);
    CHECK(count(db, "SELECT sum(spam_count) FROM bayes_token") == 0);
    CHECK(count(db, "SELECT sum(ham_count) FROM bayes_token") == static_cast<std::int64_t>(n));
    auto s = stats(db);
    REQUIRE(s.ok());
    REQUIRE(s->owners.size() == 1);
    CHECK(s->owners[0].spam_messages == 0);
    CHECK(s->owners[0].ham_messages == 1);
    CHECK(s->owners[0].tokens == static_cast<std::int64_t>(n));

    // a second message sharing words: counts add up, forgetting one leaves the other's
    std::string spam2 = message("two@x.example", "Win money", "win more money");
    CHECK(must_learn(db, spam2, Kind::Spam) == LearnOutcome::Learned);
    CHECK(count(db, "SELECT spam_count FROM bayes_token WHERE token = " +
                        std::to_string(static_cast<std::int64_t>(hash_token("money")))) == 1);
    CHECK(count(db, "SELECT ham_count FROM bayes_token WHERE token = " +
                        std::to_string(static_cast<std::int64_t>(hash_token("money")))) == 1);

    auto f = forget(db, parse(spam));
    REQUIRE(f.ok());
    CHECK(*f);
    auto again = forget(db, parse(spam));
    REQUIRE(again.ok());
    CHECK_FALSE(*again);
    CHECK(count(db, "SELECT count(*) FROM bayes_token") ==
          static_cast<std::int64_t>(tokenize(parse(spam2)).size()));
    CHECK(count(db, "SELECT sum(ham_count) FROM bayes_token") == 0);
    CHECK(count(db, "SELECT ham_messages FROM bayes_owner WHERE owner = ''") == 0);
    CHECK(count(db, "SELECT count(*) FROM bayes_seen") == 1);

    // without a Message-ID the key is the content's hash
    auto k1 = message_key(parse(message("", "s", "same body")));
    CHECK(k1.starts_with("body:"));
    CHECK(k1 == message_key(parse(message("", "s", "same body"))));
    CHECK(k1 != message_key(parse(message("", "s", "other body"))));
    CHECK(message_key(parse(spam)) == "mid:<one@x.example>");
}

TEST_CASE("bayes store: many messages in one transaction") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    {
        auto tx = db.transaction();
        REQUIRE(tx.ok());
        learn_corpus(db);
        REQUIRE(tx->commit().ok());
    }
    CHECK(count(db, "SELECT spam_messages FROM bayes_owner") == 10);
    CHECK(count(db, "SELECT ham_messages FROM bayes_owner") == 10);
}

TEST_CASE("bayes classify: silent until enough is learned, then separates") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    auto spammy = tokenize(parse(message("new1@bulk.example", "Cheap pills", "cheap viagra pills, click now winner",
                                         "Pharmacy <sales@bulk.example>")));
    auto hammy = tokenize(parse(message("new2@work.example", "Meeting notes", "the project review meeting notes",
                                        "Carol <carol@work.example>")));
    auto none = classify(db, spammy, "", ready_after(1));
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());

    learn_corpus(db);
    CHECK_FALSE(classify(db, spammy, "", ready_after(11))->has_value());  // 10 learned of each
    auto p = classify(db, spammy, "", ready_after(10));
    REQUIRE(p.ok());
    REQUIRE(p->has_value());
    CHECK(**p > 0.99);
    auto q = classify(db, hammy, "", ready_after(10));
    REQUIRE(q.ok());
    REQUIRE(q->has_value());
    CHECK(**q < 0.01);

    auto d = classify_detail(db, spammy, "", ready_after(10));
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    CHECK((*d)->tokens == spammy.size());
    CHECK((*d)->known > 0);
    CHECK((*d)->used > 0);
    CHECK((*d)->spam_messages == 10);

    // an unknown message: nothing significant, 0.5
    auto u = classify(db, tokenize(parse(message("u@q.example", "zzz", "qqqq wwww"))), "", ready_after(10));
    REQUIRE(u.ok());
    REQUIRE(u->has_value());
    CHECK(**u > 0.3);
    CHECK(**u < 0.7);

    // more tokens than one lookup holds (128 per query)
    std::string many;
    for (int i = 0; i < 1000; ++i) many += "word" + std::to_string(i) + " ";
    many += "cheap viagra pills winner";
    auto m = classify(db, tokenize(parse(message("m@q.example", "Cheap pills offer", many))), "", ready_after(10));
    REQUIRE(m.ok());
    CHECK(**m > 0.9);
}

TEST_CASE("bayes per user: a user's tokens count with the global ones") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    learn_corpus(db, "bob@example.net");
    auto spammy = tokenize(parse(message("n@bulk.example", "Cheap pills", "cheap viagra pills click now",
                                         "Pharmacy <sales@bulk.example>")));
    CHECK_FALSE(classify(db, spammy, "", ready_after(10))->has_value());  // the global one knows nothing
    auto p = classify(db, spammy, "bob@example.net", ready_after(10));
    REQUIRE(p.ok());
    REQUIRE(p->has_value());
    CHECK(**p > 0.99);

    // global mail adds to the user's counts
    must_learn(db, message("g1@x.example", "g", "global words only"), Kind::Ham);
    CHECK_FALSE(classify(db, spammy, "bob@example.net", ready_after(11))->has_value());  // 10 spam
    auto d = classify_detail(db, spammy, "bob@example.net", ready_after(10));
    REQUIRE(d.ok());
    CHECK((*d)->ham_messages == 11);

    // the same message learned per user and globally are separate
    std::string msg = message("shared@x.example", "s", "shared message");
    CHECK(must_learn(db, msg, Kind::Spam, "bob@example.net") == LearnOutcome::Learned);
    CHECK(must_learn(db, msg, Kind::Spam) == LearnOutcome::Learned);

    auto s = stats(db);
    REQUIRE(s.ok());
    REQUIRE(s->owners.size() == 2);
    CHECK(s->owners[0].owner == "");
    CHECK(s->owners[1].owner == "bob@example.net");
    CHECK(s->owners[1].spam_messages == 11);

    Settings per_user;
    per_user.per_user = true;
    CHECK(owner_for(per_user, " <Bob@Example.NET> ") == "bob@example.net");
    CHECK(owner_for(Settings{}, "bob@example.net").empty());
}

TEST_CASE("bayes expiry: old tokens and seen records go") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    learn_corpus(db);
    std::string old = message("old@x.example", "Old", "ancient vocabulary zymurgy");
    must_learn(db, old, Kind::Ham);
    // age the tokens only that message had, and its seen record
    auto toks = tokenize(parse(old));
    auto tx = db.transaction();
    REQUIRE(tx.ok());
    for (auto t : toks) {
        auto st = db.prepare("UPDATE bayes_token SET atime_us = 1 WHERE token = ? AND ham_count = 1 AND spam_count = 0");
        REQUIRE(st.ok());
        st->bind(1, static_cast<std::int64_t>(t));
        REQUIRE(st->run().ok());
    }
    REQUIRE(db.exec("UPDATE bayes_seen SET time_us = 1 WHERE msg_key = 'mid:<old@x.example>'").ok());
    REQUIRE(tx->commit().ok());
    auto before = count(db, "SELECT count(*) FROM bayes_token");
    auto aged = count(db, "SELECT count(*) FROM bayes_token WHERE atime_us = 1");
    CHECK(aged > 0);
    auto r = expire(db, 30);
    REQUIRE(r.ok());
    CHECK(r->tokens == aged);
    CHECK(r->seen == 1);
    CHECK(count(db, "SELECT count(*) FROM bayes_token") == before - aged);
    CHECK(count(db, "SELECT count(*) FROM bayes_token WHERE token = " +
                        std::to_string(static_cast<std::int64_t>(hash_token("zymurgy")))) == 0);
    CHECK_FALSE(expire(db, 0).ok());
    auto s = stats(db);
    REQUIRE(s.ok());
    CHECK(s->owners[0].last_expire_us > 0);
}

TEST_CASE("bayes settings from the configuration") {
    TempDir dir;
    auto defaults = config::load_files({});
    REQUIRE(defaults.ok());
    auto s = settings_from(*defaults);
    REQUIRE(s.ok());
    CHECK(s->min_spam == 200);
    CHECK(s->auto_learn_spam_score == doctest::Approx(12.0));
    CHECK(s->auto_learn_ham_score == doctest::Approx(0.1));

    auto file = dir.path / "pmx.toml";
    std::ofstream(file) << "[bayes]\nauto_learn_spam_score = \"lots\"\n";
    auto bad = config::load_files({file});
    REQUIRE(bad.ok());
    auto e = settings_from(*bad);
    REQUIRE_FALSE(e.ok());
    CHECK(e.error().message.find("bayes.auto_learn_spam_score") != std::string::npos);
    CHECK(e.error().message.find("pmx.toml:2") != std::string::npos);

    std::ofstream(file) << "[bayes]\nauto_learn_spam_score = \"5\"\nauto_learn_ham_score = \"6\"\n";
    auto crossed = config::load_files({file});
    REQUIRE(crossed.ok());
    CHECK_FALSE(settings_from(*crossed).ok());

    CHECK(s->scale == Settings::Scale::Pmx);
    CHECK(s->spam_points == doctest::Approx(5.0));
    CHECK(s->ham_points == doctest::Approx(-2.0));
    std::ofstream(file) << "[bayes]\nscore_scale = \"spamassassin\"\nspam_points = \"6.5\"\nham_points = \"-1\"\n";
    auto scaled = config::load_files({file});
    REQUIRE(scaled.ok());
    auto sc = settings_from(*scaled);
    REQUIRE(sc.ok());
    CHECK(sc->scale == Settings::Scale::SpamAssassin);
    CHECK(sc->spam_points == doctest::Approx(6.5));
    CHECK(sc->ham_points == doctest::Approx(-1.0));
    std::ofstream(file) << "[bayes]\nham_points = \"2\"\n";
    auto positive = config::load_files({file});
    REQUIRE(positive.ok());
    auto pe = settings_from(*positive);
    REQUIRE_FALSE(pe.ok());
    CHECK(pe.error().message.find("bayes.ham_points") != std::string::npos);
}

TEST_CASE("bayes points: pmx's scale follows the odds") {
    Settings s;  // spam_points 5, ham_points -2
    CHECK(points(0.5, s) == doctest::Approx(0.0));
    CHECK(points(0.99, s) == doctest::Approx(5.0).epsilon(0.01));  // odds 99:1, just short of two decades
    CHECK(points(0.9, s) == doctest::Approx(5.0 * std::log10(9.0) / 2));
    CHECK(points(0.999, s) == doctest::Approx(7.5).epsilon(0.001));
    CHECK(points(1.0, s) == doctest::Approx(7.5));  // no more beyond 99.9%
    CHECK(points(0.01, s) == doctest::Approx(-2.0).epsilon(0.01));
    CHECK(points(0.0, s) == doctest::Approx(-2.0));
    CHECK(points(0.6, s) > 0);
    CHECK(points(0.4, s) < 0);
    CHECK(points(0.8, s) < points(0.95, s));

    // The band hits of the rule files become one hit with the scale's points.
    std::vector<spam::Hit> hits = {{"BAYES_99", 3.5, "Bayes spam probability is 99 to 100%"},
                                   {"BAYES_999", 0.2, "Bayes spam probability is 99.9 to 100%"},
                                   {"SUBJ_ALL_CAPS", 0.5, "Subject is all capitals"}};
    auto scaled = hits;
    score_hits(scaled, 0.9995, s);
    REQUIRE(scaled.size() == 2);
    CHECK(scaled[0].name == "SUBJ_ALL_CAPS");
    CHECK(scaled[1].name == "BAYES_999");
    CHECK(scaled[1].score == doctest::Approx(points(0.9995, s)).epsilon(0.001));
    CHECK(scaled[1].description.find("pmx scale") != std::string::npos);

    auto none = std::vector<spam::Hit>{{"SUBJ_ALL_CAPS", 0.5, ""}};
    score_hits(none, 0.995, s);  // rule files without bands: the band is named by pmx
    REQUIRE(none.size() == 2);
    CHECK(none[1].name == "BAYES_99");

    auto sa = hits;
    Settings as_sa;
    as_sa.scale = Settings::Scale::SpamAssassin;
    score_hits(sa, 0.9995, as_sa);
    CHECK(sa == hits);
    auto unknown = hits;
    score_hits(unknown, std::nullopt, s);
    CHECK(unknown == hits);
}

TEST_CASE("bayes snapshot: the milter's in-memory read path agrees with SQL and follows changes") {
    TempDir dir;
    auto db = open_db(dir.path / "pmx.db");
    SnapshotCache cache(std::chrono::milliseconds(0));  // check every time
    auto empty = cache.get(db);
    REQUIRE(empty.ok());
    CHECK((*empty)->size() == 0);

    learn_corpus(db);
    auto snap = cache.get(db);
    REQUIRE(snap.ok());
    CHECK((*snap)->spam_messages() == 10);
    CHECK((*snap)->size() == static_cast<std::size_t>(count(db, "SELECT count(*) FROM bayes_token")));
    CHECK((*snap)->find(hash_token("viagra")).spam == 10);
    CHECK((*snap)->find(hash_token("viagra")).ham == 0);
    CHECK((*snap)->find(hash_token("no-such-token")).spam == 0);

    for (const auto& raw : {message("x1@bulk.example", "Cheap pills", "cheap viagra pills click now winner"),
                            message("x2@work.example", "Meeting notes", "the project review meeting notes"),
                            message("x3@q.example", "zzz", "qqqq wwww regards offer")}) {
        auto toks = tokenize(parse(raw));
        auto a = classify(db, toks, "", ready_after(10));
        auto b = classify(**snap, toks, nullptr, "", ready_after(10));
        REQUIRE(a.ok());
        REQUIRE(b.ok());
        REQUIRE(a->has_value());
        REQUIRE(b->has_value());
        CHECK(**a == doctest::Approx(**b));
    }
    CHECK_FALSE(classify(**snap, {}, nullptr, "", ready_after(11))->has_value());

    // unchanged: the same snapshot; learning makes the next get() reload
    CHECK(cache.get(db)->get() == snap->get());
    must_learn(db, message("more@x.example", "m", "more words"), Kind::Ham);
    auto next = cache.get(db);
    REQUIRE(next.ok());
    CHECK(next->get() != snap->get());
    CHECK((*next)->ham_messages() == 11);

    // with a long interval nothing is asked again
    SnapshotCache slow(std::chrono::hours(1));
    auto first = slow.get(db);
    must_learn(db, message("more2@x.example", "m", "more words again"), Kind::Ham);
    CHECK(slow.get(db)->get() == first->get());

    // per user: the snapshot (global) plus the user's rows from the database
    learn_corpus(db, "bob@example.net");
    auto toks = tokenize(parse(message("n@bulk.example", "Cheap pills", "cheap viagra pills click now")));
    auto a = classify_detail(db, toks, "bob@example.net", ready_after(10));
    auto b = classify_detail(**cache.get(db), toks, &db, "bob@example.net", ready_after(10));
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK((*a)->probability == doctest::Approx((*b)->probability));
    CHECK((*b)->spam_messages == 20);
}
