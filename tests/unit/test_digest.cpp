// Unit tests: digests (lib/digest, lib/store/digest_store): link tokens, the message built
// from the shipped templates (structure, escaping of hostile data, links), templates, reply
// scanning, and the store's "new since the last digest", opt-out and release state.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "digest/builder.hpp"
#include "digest/compose.hpp"
#include "digest/link_token.hpp"
#include "digest/reply.hpp"
#include "digest/templates.hpp"
#include "digest/token_release.hpp"
#include "mail/mime.hpp"
#include "queue/spool.hpp"
#include "secret/keyring.hpp"
#include "store/database.hpp"
#include "store/digest_store.hpp"
#include "store/quarantine_store.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx;

namespace {

constexpr std::int64_t sec = 1000000;
constexpr std::int64_t t_now = 1795000000LL * sec;  // 2026-11-18

secret::Keyring ring(char fill = 'k', std::string id = "0123abcd") {
    return secret::Keyring({secret::Key{std::move(id), 0, std::string(32, fill)}});
}

digest::Templates shipped_templates() {
    std::vector<fs::path> dirs{fs::path(PMX_SOURCE_ROOT) / "share/digest"};
    auto t = digest::load_templates(dirs);
    REQUIRE_MESSAGE(t.ok(), (t ? "" : t.error().message));
    return *t;
}

store::DigestEntry entry(std::int64_t id, std::string sender, std::string subject, std::string reason = "spam",
                         std::optional<double> score = 7.5) {
    return {id, "bob@example.test", t_now - id * 60 * sec, std::move(sender), std::move(subject), std::move(reason),
            score};
}

const mail::Part* part_of(const mail::ParsedMessage& m, std::string_view type) {
    for (const auto& p : m.parts)
        if (p.content_type == type) return &p;
    return nullptr;
}

// The raw (still encoded) HTML of the digest, decoded from quoted-printable.
std::string html_of(const std::string& raw, const mail::ParsedMessage& m) {
    const auto* p = part_of(m, "text/html");
    REQUIRE(p != nullptr);
    return mail::decode_quoted_printable(std::string_view(raw).substr(p->body_offset, p->body_length));
}

struct Store {
    test::TempDir dir{"pmx-digest"};
    fs::path qdir = dir.path / "quarantine";
    store::Database db;

    static store::Database open(const fs::path& p) {
        auto d = store::Database::open(p);
        REQUIRE_MESSAGE(d.ok(), (d ? "" : d.error().message));
        return std::move(*d);
    }
    Store() : db(open(dir.path / "pmx.db")) { fs::create_directories(qdir); }

    std::int64_t hold(std::vector<std::string> rcpts, std::string subject, std::int64_t time_us) {
        store::QuarantineMeta m;
        m.time_us = time_us;
        m.sender = "spammer@bad.test";
        m.recipients = std::move(rcpts);
        m.subject = subject;
        m.reason = "spam";
        m.score = 9.0;
        auto id = store::quarantine(db, qdir,
                                    "From: spammer@bad.test\r\nTo: x@example.test\r\nSubject: " + subject +
                                        "\r\nMessage-ID: <" + subject + "@bad.test>\r\n\r\nbuy now\r\n",
                                    m);
        REQUIRE_MESSAGE(id.ok(), (id ? "" : id.error().message));
        return *id;
    }

    std::vector<std::int64_t> pending_ids(std::string_view who, std::int64_t since = t_now - 30 * 86400 * sec) {
        auto e = store::digest_pending_entries(db, who, since, 100);
        REQUIRE(e.ok());
        std::vector<std::int64_t> ids;
        for (const auto& x : *e) ids.push_back(x.id);
        return ids;
    }
};

}  // namespace

TEST_CASE("digest: link token round trip; tampered, foreign and expired tokens are refused") {
    auto k = ring();
    auto tok = digest::make_link_token(k, 42, "Bob@Example.TEST", t_now + 3600 * sec);
    auto c = digest::check_link_token(k, tok, t_now);
    REQUIRE(c.ok());
    CHECK(c->quarantine_id == 42);
    CHECK(c->recipient == "bob@example.test");

    // expired
    CHECK_FALSE(digest::check_link_token(k, tok, t_now + 3601 * sec).ok());
    // signed by another site's key with the same id
    CHECK_FALSE(digest::check_link_token(ring('x'), tok, t_now).ok());
    // one character of the payload changed (another id or recipient): the MAC no longer matches
    auto parts = tok;
    auto p2 = parts.find('.', parts.find('.') + 1) + 1;
    parts[p2] = parts[p2] == 'A' ? 'B' : 'A';
    CHECK_FALSE(digest::check_link_token(k, parts, t_now).ok());
    // the expiry pushed out
    auto later = tok;
    auto p1 = later.find('.') + 1;
    later[p1] = later[p1] == '9' ? '8' : '9';
    CHECK_FALSE(digest::check_link_token(k, later, t_now).ok());
    CHECK_FALSE(digest::check_link_token(k, "", t_now).ok());
    CHECK_FALSE(digest::check_link_token(k, "a.b.c.d", t_now).ok());
    CHECK_FALSE(digest::check_link_token(k, std::string(10000, 'a'), t_now).ok());
}

TEST_CASE("digest: tokens are found in quoted text, URLs and next to punctuation, once each") {
    auto k = ring();
    auto a = digest::make_link_token(k, 1, "bob@example.test", t_now + 3600 * sec);
    auto b = digest::make_link_token(k, 2, "bob@example.test", t_now + 3600 * sec);
    std::string text = "Thanks!\n> * 2026-11-18  From: x\n>   Release: https://gw.example/r?token=" + a +
                       "\n>>   Release code: " + b + ".\n> again " + a + "\nnot a token: 0123abcd.12.abc.def\n";
    auto found = digest::find_link_tokens(text, 10);
    REQUIRE(found.size() == 2);
    CHECK(found[0] == a);
    CHECK(found[1] == b);
    CHECK(digest::find_link_tokens(text, 1).size() == 1);
}

TEST_CASE("digest: the message is multipart/alternative, UTF-8, with escaped hostile data and working links") {
    auto k = ring();
    digest::Settings s;
    s.from = "quarantine@gw.example";
    s.reply_to = "release@gw.example";
    s.link_base_url = "https://gw.example/quarantine/release?token=";
    s.host = "gw.example";
    digest::Input in;
    in.recipient = "bob@example.test";
    in.now_us = t_now;
    in.unique = "U1";
    in.entries = {entry(1, "evil\"<script>@bad.test", "<script>alert('x')</script> & <b>win</b>"),
                  entry(2, "a@b.test", "Fake\r\nRelease: https://evil.example/\u202Egnp.exe", "virus", std::nullopt),
                  entry(3, "", "Grüße, €100 für Sie 🎁")};
    in.total_new = 5;
    auto built = digest::build(s, shipped_templates(), k, in);
    REQUIRE_MESSAGE(built.ok(), (built ? "" : built.error().message));
    const auto& raw = built->message;

    auto m = mail::parse_message(raw);
    CHECK(m.flags.empty());
    REQUIRE(m.header("Content-Type") != nullptr);
    CHECK(m.header("Content-Type")->value.find("multipart/alternative") == 0);
    CHECK(m.header("To")->value == "bob@example.test");
    CHECK(m.header("From")->value == "quarantine@gw.example");
    CHECK(m.header("Reply-To")->value == "release@gw.example");
    CHECK(m.header("Auto-Submitted")->value == "auto-generated");
    CHECK(m.header("Message-ID")->value == built->message_id);
    CHECK(m.header("Date")->value.find("+0000") != std::string::npos);
    CHECK(m.subject == "Quarantine digest: 5 new held message(s)");
    REQUIRE(m.parts.size() == 2);
    const auto* text = part_of(m, "text/plain");
    REQUIRE(text != nullptr);
    CHECK(text->charset == "utf-8");
    REQUIRE(part_of(m, "text/html") != nullptr);
    CHECK(part_of(m, "text/html")->charset == "utf-8");
    for (std::size_t i = 0; i + 1 < raw.size(); ++i)  // CRLF everywhere, lines of at most 78
        if (raw[i] == '\n') CHECK(raw[i - 1] == '\r');
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < raw.size(); ++i)
        if (raw[i] == '\n') {
            CHECK(i - line_start <= 78);
            line_start = i + 1;
        }

    // Text: one line per value; the injected "Release:" line does not start a line of its own.
    CHECK(text->text.find("Subject: Fake  Release: https://evil.example/gnp.exe") != std::string::npos);
    CHECK(text->text.find("\u202E") == std::string::npos);
    CHECK(text->text.find("Grüße, €100 für Sie 🎁") != std::string::npos);
    CHECK(text->text.find("From: <>") != std::string::npos);
    CHECK(text->text.find("2 older held message(s) are not listed") != std::string::npos);
    CHECK(text->text.find("release@gw.example") != std::string::npos);
    CHECK(text->text.find("Release code:") == std::string::npos);  // links configured: no bare codes

    // HTML: nothing of the hostile data is markup.
    auto html = html_of(raw, m);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;win&lt;/b&gt;") != std::string::npos);
    CHECK(html.find("evil&quot;&lt;script&gt;@bad.test") != std::string::npos);
    CHECK(html.find("<b>win</b>") == std::string::npos);

    // One link per entry, each with a token that releases that entry for bob.
    REQUIRE(built->tokens.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& t = built->tokens[i];
        CHECK(html.find("href=\"https://gw.example/quarantine/release?token=" + t + "\"") != std::string::npos);
        CHECK(text->text.find("Release: https://gw.example/quarantine/release?token=" + t) != std::string::npos);
        auto c = digest::check_link_token(k, t, t_now + 13 * 86400 * sec);
        REQUIRE(c.ok());
        CHECK(c->quarantine_id == in.entries[i].id);
        CHECK(c->recipient == "bob@example.test");
        CHECK_FALSE(digest::check_link_token(k, t, t_now + 15 * 86400 * sec).ok());  // link_valid: 14 days
    }
    // What a reply quoting the text part carries is exactly these tokens.
    CHECK(digest::find_link_tokens(text->text, 100) == built->tokens);
}

TEST_CASE("digest: without a link base URL the entries carry release codes; without reply_to no reply text") {
    digest::Settings s;
    s.from = "quarantine@gw.example";
    digest::Input in;
    in.recipient = "bob@example.test";
    in.now_us = t_now;
    in.unique = "U2";
    in.entries = {entry(7, "a@b.test", "hello")};
    in.total_new = 1;
    auto built = digest::build(s, shipped_templates(), ring(), in);
    REQUIRE(built.ok());
    auto m = mail::parse_message(built->message);
    CHECK(m.header("Reply-To") == nullptr);
    const auto* text = part_of(m, "text/plain");
    REQUIRE(text != nullptr);
    CHECK(text->text.find("Release code: " + built->tokens[0]) != std::string::npos);
    CHECK(text->text.find("Release: ") == std::string::npos);
    CHECK(text->text.find("To release by reply") == std::string::npos);
    CHECK(text->text.find("not listed") == std::string::npos);
    CHECK(html_of(built->message, m).find("href=") == std::string::npos);

    // A subject template with non-ASCII text is RFC 2047 encoded and decodes back.
    s.subject = "Quarantäne: {count} für {recipient}";
    built = digest::build(s, shipped_templates(), ring(), in);
    REQUIRE(built.ok());
    CHECK(built->message.find("Subject: =?UTF-8?B?") != std::string::npos);
    CHECK(mail::parse_message(built->message).subject == "Quarantäne: 1 für bob@example.test");

    // A recipient that cannot stand in a header is refused, not written.
    in.recipient = "bob@example.test\r\nBcc: all@example.test";
    CHECK_FALSE(digest::build(s, shipped_templates(), ring(), in).ok());
}

TEST_CASE("digest: templates: optional lines, literal braces, unknown placeholders refused with file and line") {
    digest::Values v{{"a", "1"}, {"b", ""}};
    CHECK(digest::render_template("x {a}\ny {b}\nz {{a}\nplain\n", v) == "x 1\nz {a}\nplain\n");
    CHECK(digest::render_template("{a}{b}\n", v) == "1\n");

    std::vector<std::string_view> known{"a", "b"};
    CHECK(digest::check_template("ok {a}\n{{literal}\n", known, "f.txt").ok());
    auto bad = digest::check_template("ok\nhello {nope}\n", known, "f.txt");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().message.find("f.txt:2: unknown placeholder {nope}") != std::string::npos);
    auto open = digest::check_template("x {a\n", known, "f.txt");
    REQUIRE_FALSE(open.ok());
    CHECK(open.error().message.find("f.txt:1:") != std::string::npos);

    test::TempDir t{"pmx-digest-tmpl"};
    t.write("admin/digest.txt", "Mine {count}\n{entries}");
    std::vector<fs::path> dirs{t.path / "admin", fs::path(PMX_SOURCE_ROOT) / "share/digest"};
    auto loaded = digest::load_templates(dirs);
    REQUIRE(loaded.ok());
    CHECK(loaded->text == "Mine {count}\n{entries}");  // the admin's file wins, file by file
    CHECK(loaded->html.find("<html>") != std::string::npos);
    t.write("admin/digest-entry.html", "<td>{bogus}</td>\n");
    CHECK_FALSE(digest::load_templates(dirs).ok());
    std::vector<fs::path> none{t.path / "nothing"};
    CHECK_FALSE(digest::load_templates(none).ok());
}

TEST_CASE("digest: quoted-printable and header text encoding") {
    CHECK(digest::quoted_printable("a=b\nc \nFrom x\n.dot\n") == "a=3Db\r\nc=20\r\n=46rom x\r\n=2Edot\r\n");
    auto long_line = digest::quoted_printable(std::string(200, 'x'));
    CHECK(long_line.find("=\r\n") == 75);
    CHECK(mail::decode_quoted_printable(long_line) == std::string(200, 'x'));
    CHECK(mail::decode_quoted_printable(digest::quoted_printable("Grüße €")) == "Grüße €");
    CHECK(digest::encode_header_text("plain text") == "plain text");
    auto enc = digest::encode_header_text(std::string(30, 'a') + "ü" + std::string(60, 'b'));
    CHECK(enc.find("\r\n ") != std::string::npos);
    CHECK(mail::decode_rfc2047(enc) == std::string(30, 'a') + "ü" + std::string(60, 'b'));
    CHECK(digest::display_line("a\r\nb\x01\xff", 100) == "a  b \xEF\xBF\xBD");
    CHECK(digest::display_line("abcdef", 3) == "abc\xE2\x80\xA6");
    CHECK(pmx::html_escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    CHECK(digest::rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
    CHECK(digest::header_safe_address("bob@example.test"));
    CHECK_FALSE(digest::header_safe_address("bob@example.test, eve@evil.test"));
    CHECK_FALSE(digest::header_safe_address("no-at-sign"));
}

TEST_CASE("digest: reply scanning finds quoted tokens and ignores bounces and automatic replies") {
    auto k = ring();
    auto a = digest::make_link_token(k, 1, "bob@example.test", t_now + 3600 * sec);
    auto b = digest::make_link_token(k, 2, "bob@example.test", t_now + 3600 * sec);
    const std::string qp_b = b.substr(0, 30) + "=\r\n" + b.substr(30);  // a soft line break inside the token
    std::string reply = "From: Bob <Bob@Example.TEST>\r\nTo: release@gw.example\r\nSubject: Re: Quarantine digest\r\n"
                        "Message-ID: <r1@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
                        "Please release these.\r\n\r\n> * From: x\r\n>   Release code: " + a + "\r\n> * From: y\r\n"
                        ">   Release code: " + qp_b + "\r\n";
    std::string sender = "bob@example.test";
    auto r = digest::scan_reply(reply, &sender, 100);
    CHECK(r.ignored.empty());
    CHECK(r.from == "bob@example.test");
    CHECK(r.tokens == std::vector<std::string>{a, b});
    CHECK(digest::scan_reply(reply, &sender, 1).tokens.size() == 1);  // capped

    // HTML-only reply: the token survives in the link's href.
    std::string html = "From: bob@example.test\r\nContent-Type: text/html\r\n\r\n<blockquote><a href=\"https://gw/r?token=" +
                       a + "\">Release</a></blockquote>\r\n";
    CHECK(digest::scan_reply(html, nullptr, 100).tokens == std::vector<std::string>{a});

    std::string null_sender;
    CHECK_FALSE(digest::scan_reply(reply, &null_sender, 100).ignored.empty());
    std::string daemon = "MAILER-DAEMON";
    CHECK_FALSE(digest::scan_reply(reply, &daemon, 100).ignored.empty());
    CHECK_FALSE(digest::scan_reply("Auto-Submitted: auto-replied\r\n" + reply, &sender, 100).ignored.empty());
    CHECK(digest::scan_reply("Auto-Submitted: no\r\n" + reply, &sender, 100).ignored.empty());
    CHECK_FALSE(digest::scan_reply("Precedence: bulk\r\n" + reply, &sender, 100).ignored.empty());
    std::string report = "From: MAILER-DAEMON@gw\r\nContent-Type: multipart/report; report-type=delivery-status; "
                         "boundary=x\r\n\r\n--x\r\n\r\n" + a + "\r\n--x--\r\n";
    CHECK_FALSE(digest::scan_reply(report, nullptr, 100).ignored.empty());
    CHECK(digest::scan_reply("From: bob@example.test\r\n\r\nthanks\r\n", nullptr, 100).tokens.empty());

    CHECK(digest::header_address("\"Bob, B.\" <Bob@Example.Test>") == "bob@example.test");
    CHECK(digest::header_address("bob@example.test (Bob)") == "bob@example.test");
    CHECK(digest::header_address("undisclosed-recipients:;") == "");
}

TEST_CASE("digest: store: only entries new since the last digest, still held, recent, not opted out") {
    Store s;
    const auto since = t_now - 7 * 86400 * sec;
    auto old = s.hold({"bob@example.test"}, "ancient", t_now - 30 * 86400 * sec);
    auto m1 = s.hold({"Bob@Example.test", "carol@example.test"}, "one", t_now - 3600 * sec);
    auto m2 = s.hold({"bob@example.test"}, "two", t_now - 60 * sec);
    (void)old;

    auto pending = store::digest_pending_recipients(s.db, since);
    REQUIRE(pending.ok());
    REQUIRE(pending->size() == 2);
    CHECK((*pending)[0].address == "bob@example.test");
    CHECK((*pending)[0].entries == 2);
    CHECK((*pending)[1].address == "carol@example.test");
    CHECK(s.pending_ids("BOB@example.test", since) == std::vector<std::int64_t>{m2, m1});  // newest first

    auto e = store::digest_pending_entries(s.db, "bob@example.test", since, 100);
    REQUIRE(e.ok());
    CHECK((*e)[1].recipient == "Bob@Example.test");  // as stored: the join with quarantine_recipient is exact
    REQUIRE(store::digest_mark_listed(s.db, "bob@example.test", *e, 2, t_now).ok());
    CHECK(s.pending_ids("bob@example.test", since).empty());
    auto st = store::digest_recipient_state(s.db, "BOB@example.test");
    REQUIRE(st.ok());
    REQUIRE(st->has_value());
    CHECK((*st)->last_digest_us == t_now);
    CHECK((*st)->last_entries == 2);

    // A new one arrives: only it is pending for bob; carol still has hers.
    auto m3 = s.hold({"bob@example.test"}, "three", t_now + 60 * sec);
    CHECK(s.pending_ids("bob@example.test", since) == std::vector<std::int64_t>{m3});
    CHECK(s.pending_ids("carol@example.test", since) == std::vector<std::int64_t>{m1});
    auto only = store::digest_pending_recipients(s.db, since, "Carol@Example.Test");
    REQUIRE(only.ok());
    REQUIRE(only->size() == 1);
    CHECK((*only)[0].address == "carol@example.test");

    // Released (quarantine release state of migration 4): no longer pending.
    REQUIRE(s.db.exec("UPDATE quarantine_recipient SET released_us = 1, released_by = 'test' WHERE message_id = " +
                      std::to_string(m3))
                .ok());
    CHECK(s.pending_ids("bob@example.test", since).empty());

    // Opt-out: carol is left out until she opts in again.
    auto changed = store::digest_set_opt_out(s.db, "Carol@example.test", true, t_now);
    REQUIRE(changed.ok());
    CHECK(*changed);
    CHECK_FALSE(*store::digest_set_opt_out(s.db, "carol@example.test", true, t_now));
    pending = store::digest_pending_recipients(s.db, since);
    REQUIRE(pending.ok());
    CHECK(pending->empty());
    auto outs = store::digest_opt_outs(s.db);
    REQUIRE(outs.ok());
    REQUIRE(outs->size() == 1);
    CHECK((*outs)[0].address == "carol@example.test");
    CHECK(*store::digest_set_opt_out(s.db, "carol@example.test", false, t_now));
    CHECK_FALSE(*store::digest_set_opt_out(s.db, "dave@example.test", false, t_now));  // never opted out
    CHECK(s.pending_ids("carol@example.test", since) == std::vector<std::int64_t>{m1});

    // A deleted message takes its listing rows with it.
    REQUIRE(store::delete_quarantined(s.db, s.qdir, m1).ok());
    CHECK(s.pending_ids("carol@example.test", since).empty());
}

TEST_CASE("digest: release by token: once to the token's recipient, refused for another sender or a gone message") {
    Store s;
    auto k = ring();
    quarantine::Places places{s.qdir, s.dir.path / "spool"};
    auto id = s.hold({"Bob@example.test", "carol@example.test"}, "held", t_now);
    auto tok = digest::make_link_token(k, id, "bob@example.test", store::now_us() + 3600 * sec);

    auto wrong = digest::release_by_token(s.db, places, k, tok, "digest-reply", "eve@evil.test", store::now_us());
    CHECK(wrong.outcome == digest::TokenOutcome::Refused);
    CHECK(wrong.detail.find("not for eve@evil.test") != std::string::npos);

    auto r = digest::release_by_token(s.db, places, k, tok, "digest-reply", "BOB@example.test", store::now_us());
    REQUIRE_MESSAGE(r.outcome == digest::TokenOutcome::Released, r.detail);
    CHECK_FALSE(r.queue_entry.empty());
    auto again = digest::release_by_token(s.db, places, k, tok, "digest-link", std::nullopt, store::now_us());
    CHECK(again.outcome == digest::TokenOutcome::AlreadyReleased);

    // Carol's copy is still held and listed; bob's is not pending any more.
    CHECK(s.pending_ids("carol@example.test") == std::vector<std::int64_t>{id});
    CHECK(s.pending_ids("bob@example.test").empty());

    auto expired = digest::make_link_token(k, id, "carol@example.test", store::now_us() - sec);
    CHECK(digest::release_by_token(s.db, places, k, expired, "digest-link", std::nullopt, store::now_us()).outcome ==
          digest::TokenOutcome::Refused);
    auto gone = digest::make_link_token(k, id + 100, "carol@example.test", store::now_us() + 3600 * sec);
    auto g = digest::release_by_token(s.db, places, k, gone, "digest-link", std::nullopt, store::now_us());
    CHECK(g.outcome == digest::TokenOutcome::Refused);
    CHECK(g.detail.find("no longer in the quarantine") != std::string::npos);
}
