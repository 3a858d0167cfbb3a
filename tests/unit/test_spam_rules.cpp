// Unit tests: spam_rules. The rule-file parser, meta arithmetic, header forms, Perl regex
// delimiters, message views, URIs, evals, and vectorscan+PCRE2 agreeing with PCRE2 alone, on
// small rule files written here; and SpamAssassin's own rules when Debian's package is installed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mail/mime.hpp"
#include "spam/rules/expr.hpp"
#include "spam/rules/regex.hpp"
#include "spam/rules/rules.hpp"
#include "spam/uris.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace pmx;
using namespace pmx::spam::rules;

namespace {

using pmx::test::TempDir;

std::shared_ptr<const RuleSet> load_text(const std::string& cf, bool bayes = false, bool vectorscan = true) {
    TempDir d;
    d.write("50_test.cf", cf);
    LoadOptions o;
    o.dirs = {d.path};
    o.bayes_enabled = bayes;
    o.use_vectorscan = vectorscan;
    auto r = load_rules(o);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return *r;
}

const char* kMessage =
    "Return-Path: <bounce@lists.example.org>\n"
    "Received: from mx.example.net (mx.example.net [192.0.2.7]) by mail.example.com\n"
    "Subject: =?utf-8?q?Caf=C3=A9_offer?= FREE MONEY\n"
    "From: \"Jane Roe\" <jane@example.net>\n"
    "To: bob@example.com\n"
    "Cc: carol@example.com\n"
    "Message-Id: <abc123@example.net>\n"
    "Date: Tue, 24 Nov 2026 10:00:00 +0000\n"
    "X-Mailer: Spamtool 2.0\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/alternative; boundary=\"b1\"\n"
    "\n"
    "--b1\n"
    "Content-Type: text/plain; charset=us-ascii\n"
    "\n"
    "Hello Bob,\n"
    "this is a   limited\n"
    "offer.\n"
    "\n"
    "Visit www.example.biz/deal now. Buy buy buy.\n"
    "--b1\n"
    "Content-Type: text/html; charset=us-ascii\n"
    "Content-Transfer-Encoding: quoted-printable\n"
    "\n"
    "<html><body><p>Hello <b>Bob</b></p><a href=3D\"http://192.0.2.55/x?a=3D1\">click</a>\n"
    "<img src=3D\"https://img.Example.COM:8080/p.gif\"></body></html>\n"
    "--b1--\n";

std::vector<std::string> names(const RuleSet& rs, std::string_view raw, std::optional<double> bayes = std::nullopt,
                               std::set<std::string, std::less<>> external = {}) {
    auto msg = mail::parse_message(raw);
    CheckInput in{msg, raw, bayes, std::move(external), {}};
    std::vector<std::string> out;
    for (const auto& h : rs.check(in)) out.push_back(h.name);
    return out;
}

bool has(const std::vector<std::string>& v, std::string_view n) { return std::find(v.begin(), v.end(), n) != v.end(); }

}  // namespace

TEST_CASE("spam_rules: meta expressions follow Perl") {
    using detail::Expr;
    auto e = Expr::parse("(A && !B) || (C + D > 1)");
    REQUIRE(e.ok());
    REQUIRE(e->vars().size() == 4);
    double v1[] = {1, 0, 0, 0};
    CHECK(e->eval(v1) != 0);
    double v2[] = {1, 1, 1, 0};
    CHECK(e->eval(v2) == 0);
    double v3[] = {0, 0, 1, 1};
    CHECK(e->eval(v3) != 0);
    auto arith = Expr::parse("A + B * 2 >= 5");
    REQUIRE(arith.ok());
    double a[] = {1, 2};
    CHECK(arith->eval(a) == 1);
    double b[] = {0, 2};
    CHECK(arith->eval(b) == 0);
    // && and || return an operand, as in Perl
    auto perl = Expr::parse("(A || B) + (C && D)");
    REQUIRE(perl.ok());
    double p[] = {0, 3, 2, 4};
    CHECK(perl->eval(p) == 7);
    CHECK(!Expr::parse("A &&").ok());
    CHECK(!Expr::parse("(A").ok());
    CHECK(!Expr::parse("A B").ok());
    CHECK(!Expr::parse("").ok());
}

TEST_CASE("spam_rules: Perl regex delimiters and flags") {
    using detail::parse_perl_regex;
    auto a = parse_perl_regex("/fo+\\/bar/i");
    REQUIRE(a.ok());
    CHECK(a->pattern == "fo+\\/bar");
    CHECK(a->i);
    CHECK(!a->s);
    auto b = parse_perl_regex("m{^a{1,3}}smx");
    REQUIRE(b.ok());
    CHECK(b->pattern == "^a{1,3}");
    CHECK((b->s && b->m && b->x && !b->i));
    auto c = parse_perl_regex("m!x/y!");
    REQUIRE(c.ok());
    CHECK(c->pattern == "x/y");
    CHECK(!parse_perl_regex("foo").ok());
    CHECK(!parse_perl_regex("/foo/q").ok());
    CHECK(!parse_perl_regex("/foo").ok());
}

TEST_CASE("spam_rules: PCRE2 with vectorscan agrees with PCRE2 alone") {
    using namespace detail;
    const char* patterns[] = {
        "/\\bfree money\\b/i", "/^hello/", "/offer\\.$/", "/(\\w)\\1\\1/", "/buy(?= buy)/i", "/(?<!un)limited/",
        "/\\Abuy/", "/x{2,}y/", "/caf\\xc3\\xa9/i", "/[0-9]{3}-[0-9]{4}/", "/a.c/s", "/^b/m", "/(?i)HELLO/",
        "/l i m i t e d/x", "/nomatch-anywhere/",
    };
    const char* texts[] = {"Hello Bob, FREE MONEY inside\n", "buy buy buy", "a\nc and aaa", "limited offer.\n",
                           "unlimited; 555-1234; xxxy", "Caf\xc3\xa9!", "first\nbuy second", ""};
    PatternSet with, without;
    for (const char* p : patterns) {
        auto re = parse_perl_regex(p);
        REQUIRE(re.ok());
        REQUIRE(with.add(*re).ok());
        REQUIRE(without.add(*re).ok());
    }
    with.build();
    without.build_pcre_only();
    CHECK(with.vectorscan_count() > 10);
    CHECK(without.vectorscan_count() == 0);
    Scratch scratch;
    REQUIRE(scratch.add(with));
    std::vector<int> max(std::size(patterns), 1);
    max[2] = 5;
    for (std::size_t split = 1; split <= 3; ++split) {
        ScanText text;
        for (std::size_t i = 0; i < std::size(texts); i += split) {
            std::string seg;
            for (std::size_t k = i; k < std::min(std::size(texts), i + split); ++k) seg += texts[k];
            text.add(seg);
        }
        std::vector<int> a, b;
        with.scan(text, max, a, scratch.for_this_thread(1));
        without.scan(text, max, b, nullptr);
        CHECK(a == b);
        CHECK(std::count_if(a.begin(), a.end(), [](int n) { return n > 0; }) >= 10);
    }
}

TEST_CASE("spam_rules: rule files, scores, conditions, later definitions win") {
    TempDir d;
    d.write("10_base.cf",
            "# comment\n"
            "header   SUBJ_FREE   Subject =~ /free money/i   # trailing comment\n"
            "describe SUBJ_FREE   Subject offers free money\n"
            "score    SUBJ_FREE   1.5\n"
            "body     OLD_RULE    /hello/i\n"
            "score    OLD_RULE    2\n"
            "body     FOUR_SCORES /limited offer/\n"
            "score    FOUR_SCORES 1 2 3 4\n"
            "body     T_TESTING   /Hello/\n"
            "body     NICE_RULE   /Bob/\n"
            "tflags   NICE_RULE   nice\n"
            "body     __SUB       /Bob/\n"
            "body     ZERO        /Bob/\n"
            "score    ZERO        0\n"
            "body     HASH_RULE   /\\#nothing-here/\n"
            "if (version >= 3.004000)\n"
            "  body   NEW_ENOUGH  /Bob/\n"
            "else\n"
            "  body   TOO_OLD     /Bob/\n"
            "endif\n"
            "if (version >= 9.000000)\n"
            "  body   FUTURE      /Bob/\n"
            "endif\n"
            "ifplugin Mail::SpamAssassin::Plugin::NotAPluginPmxHas\n"
            "  body   NEEDS_PLUGIN /Bob/\n"
            "endif\n"
            "ifplugin Mail::SpamAssassin::Plugin::MIMEHeader\n"
            "  mimeheader MIME_HTML Content-Type =~ /text\\/html/\n"
            "endif\n"
            "if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\n"
            "  body   CAN_RULE    /Bob/\n"
            "endif\n"
            "lang de describe SUBJ_FREE Betreff bietet Geld\n"
            "include inc/extra.inc\n"
            "required_score 6.5\n");
    d.write("inc/extra.inc", "body INCLUDED /Visit/\n");
    d.write("20_override.cf", "body OLD_RULE /nothing matches this/\nscore SUBJ_FREE 2.5\n");
    d.write("admin/local.cf", "score FOUR_SCORES 9\n");
    d.write("README", "body NOT_A_CF_FILE /Bob/\n");

    LoadOptions o;
    o.dirs = {d.path};
    o.admin = {d.path / "admin", d.path / "missing-is-fine"};
    auto rs = load_rules(o);
    REQUIRE(rs.ok());
    const RuleSet& set = **rs;
    CHECK(set.required_score() == 6.5);
    CHECK(set.files_read() == 4);  // 10_base.cf, its include, 20_override.cf, admin/local.cf

    auto hits = names(set, kMessage);
    CHECK(has(hits, "SUBJ_FREE"));
    CHECK(!has(hits, "OLD_RULE"));  // redefined by a later file
    CHECK(has(hits, "FOUR_SCORES"));
    CHECK(has(hits, "T_TESTING"));
    CHECK(has(hits, "NICE_RULE"));
    CHECK(!has(hits, "__SUB"));  // sub-rules are never reported
    CHECK(!has(hits, "ZERO"));   // score 0: off
    CHECK(!has(hits, "HASH_RULE"));
    CHECK(has(hits, "NEW_ENOUGH"));
    CHECK(!has(hits, "TOO_OLD"));
    CHECK(!has(hits, "FUTURE"));
    CHECK(!has(hits, "NEEDS_PLUGIN"));
    CHECK(has(hits, "MIME_HTML"));
    CHECK(has(hits, "CAN_RULE"));
    CHECK(has(hits, "INCLUDED"));
    CHECK(!has(hits, "NOT_A_CF_FILE"));

    auto msg = mail::parse_message(kMessage);
    CheckInput in{msg, kMessage, std::nullopt, {}, {}};
    for (const auto& h : set.check(in)) {
        if (h.name == "SUBJ_FREE") {
            CHECK(h.score == 2.5);
            CHECK(h.description == "Subject offers free money");  // German line ignored
        }
        if (h.name == "FOUR_SCORES") CHECK(h.score == 9);  // admin override
        if (h.name == "T_TESTING") CHECK(h.score == doctest::Approx(0.01));
        if (h.name == "NICE_RULE") CHECK(h.score == -1.0);
        if (h.name == "INCLUDED") CHECK(h.score == 1.0);
    }
    auto all = set.check_all_names(in);
    CHECK(has(all, "__SUB"));
    bool listed = false;
    for (const auto& u : set.unsupported())
        if (u.name == "NEEDS_PLUGIN") listed = u.reason.find("NotAPluginPmxHas") != std::string::npos;
    CHECK(listed);
}

TEST_CASE("spam_rules: score sets follow Bayes") {
    const char* cf = "body FOUR /Bob/\nscore FOUR 1 2 3 4\n";
    auto off = load_text(cf, false);
    auto on = load_text(cf, true);
    auto msg = mail::parse_message(kMessage);
    CheckInput in{msg, kMessage, std::nullopt, {}, {}};
    REQUIRE(off->check(in).size() == 1);
    CHECK(off->check(in)[0].score == 1);
    CHECK(on->check(in)[0].score == 3);
}

TEST_CASE("spam_rules: header forms") {
    auto rs = load_text(
        "header H_SUBJ     Subject =~ /^Caf\\xc3\\xa9 offer/\n"           // decoded
        "header H_RAW      Subject:raw =~ /=\\?utf-8\\?q\\?Caf=C3=A9/\n"   // undecoded
        "header H_NOT      Subject !~ /viagra/i\n"
        "header H_NOT2     Subject !~ /FREE/\n"
        "header H_EXISTS   exists:X-Mailer\n"
        "header H_EXISTS2  exists:X-Not-There\n"
        "header H_ADDR     From:addr =~ /^jane\\@example\\.net$/\n"
        "header H_NAME     From:name =~ /^Jane Roe$/\n"
        "header H_TOCC     ToCc =~ /carol\\@/\n"
        "header H_ALL      ALL =~ /^X-Mailer: Spamtool/m\n"
        "header H_MSGID    MESSAGEID =~ /abc123/\n"
        "header H_UNSET    X-Missing =~ /^fallback$/ [if-unset: fallback]\n"
        "header H_MISSING  X-Missing =~ /./\n"
        "header H_MISSNOT  X-Missing !~ /./\n"
        "header H_ENVFROM  EnvelopeFrom =~ /bounce\\@lists/\n"
        "header H_CASE     subject =~ /offer/\n"
        "header H_RELAYS   X-Spam-Relays-External =~ /./\n");
    auto hits = names(*rs, kMessage);
    for (const char* n : {"H_SUBJ", "H_RAW", "H_NOT", "H_EXISTS", "H_ADDR", "H_NAME", "H_TOCC", "H_ALL", "H_MSGID",
                          "H_UNSET", "H_MISSNOT", "H_ENVFROM", "H_CASE"}) {
        INFO(n);
        CHECK(has(hits, n));
    }
    for (const char* n : {"H_NOT2", "H_EXISTS2", "H_MISSING", "H_RELAYS"}) {
        INFO(n);
        CHECK(!has(hits, n));
    }
    bool relays_listed = false;
    for (const auto& u : rs->unsupported()) relays_listed |= u.name == "H_RELAYS";
    CHECK(relays_listed);
}

TEST_CASE("spam_rules: body, rawbody, full, uri and meta") {
    auto rs = load_text(
        "body    B_SUBJECT   /^Caf\\xc3\\xa9 offer FREE MONEY$/\n"  // the Subject is the first body line
        "body    B_PARA      /this is a limited offer\\./\n"         // a paragraph is one line, spaces collapsed
        "body    B_NOTAGS    /<b>/\n"                                 // HTML is stripped
        "body    B_HTMLTEXT  /Hello Bob/\n"
        "rawbody R_TAGS      /<b>Bob<\\/b>/\n"
        "rawbody R_QP        /href=\"http:\\/\\/192/\n"              // transfer-decoded
        "full    F_RAW       /^X-Mailer: Spamtool/m\n"
        "full    F_QP        /=3D/\n"                                 // the raw message
        "uri     U_IP        m{^http://192\\.0\\.2\\.55/}\n"
        "uri     U_WWW       m{^http://www\\.example\\.biz/deal}\n"
        "body    __BUY       /\\bbuy\\b/i\n"
        "tflags  __BUY       multiple maxhits=5\n"
        "body    __BOB       /Bob/\n"
        "meta    M_COUNT     __BUY >= 3\n"
        "meta    M_COUNT4    __BUY > 3\n"
        "meta    M_BOOL      (__BOB && !B_NOTAGS) || NOPE\n"
        "meta    M_ARITH     (B_PARA + U_IP + F_RAW + B_NOTAGS) == 3\n"
        "meta    M_EXTERNAL  RCVD_IN_TEST && __BOB\n"
        "meta    M_CYCLE_A   M_CYCLE_B\n"
        "meta    M_CYCLE_B   M_CYCLE_A\n");
    auto hits = names(*rs, kMessage);
    for (const char* n : {"B_SUBJECT", "B_PARA", "B_HTMLTEXT", "R_TAGS", "R_QP", "F_RAW", "F_QP", "U_IP", "U_WWW",
                          "M_COUNT", "M_BOOL", "M_ARITH"}) {
        INFO(n);
        CHECK(has(hits, n));
    }
    for (const char* n : {"B_NOTAGS", "M_COUNT4", "M_EXTERNAL", "M_CYCLE_A", "M_CYCLE_B"}) {
        INFO(n);
        CHECK(!has(hits, n));
    }
    CHECK(has(names(*rs, kMessage, std::nullopt, {"RCVD_IN_TEST"}), "M_EXTERNAL"));
    int cycles = 0;
    for (const auto& u : rs->unsupported()) cycles += u.reason.find("circular") != std::string::npos;
    CHECK(cycles == 2);
}

TEST_CASE("spam_rules: body paragraphs keep SpamAssassin's spaces around the mark") {
    // Message.pm: only the newlines of a whitespace run become the paragraph mark; text after
    // </html> starts its paragraph with a space, so an anchored tracker-id rule does not match.
    auto rs = load_text(
        "body  T_ID     /^[a-z0-9]{6,24}[-_a-z0-9]{12,36}[a-z0-9]{6,24}\\s*\\z/is\n"
        "body  T_SPACED /^ tail words\\s*$/\n");
    const std::string html =
        "Subject: s\nMIME-Version: 1.0\nContent-Type: text/html\n\n"
        "<html><body><p>Hello there</p></body></html>\n4589dfSl1-151rzeh9359iYoc9-006Fl29\n";
    CHECK_FALSE(has(names(*rs, html), "T_ID"));
    const std::string plain = "Subject: s\n\nHello there\n\n4589dfSl1-151rzeh9359iYoc9-006Fl29\n";
    CHECK(has(names(*rs, plain), "T_ID"));
    const std::string spaced = "Subject: s\n\nHello there\n\n tail words\n";
    CHECK(has(names(*rs, spaced), "T_SPACED"));
}

TEST_CASE("spam_rules: evals, Bayes bands and unsupported evals") {
    auto rs = load_text(
        "body   BAYES_50  eval:check_bayes('0.40', '0.60')\n"
        "body   BAYES_99  eval:check_bayes('0.99', '1.00')\n"
        "body   BAYES_00  eval:check_bayes('0', '0.01')\n"
        "score  BAYES_50  0 0 0.8 0.8\nscore BAYES_99 0 0 3.5 3.5\nscore BAYES_00 0 0 -1.9 -1.9\n"
        "header ALLCAPS   eval:subject_is_all_caps()\n"
        "header MISS_TO   eval:check_for_missing_to_header()\n"
        "header TWO_RCVD  eval:check_header_count_range('Received', '1', '1')\n"
        "full   RAZOR     eval:check_razor2()\n"
        "header RBL       eval:check_rbl('test', 'zen.example.')\n"
        "body   UNKNOWN   eval:no_such_eval()\n",
        true);
    CHECK(has(names(*rs, kMessage, 0.995), "BAYES_99"));
    CHECK(!has(names(*rs, kMessage, 0.995), "BAYES_50"));
    CHECK(has(names(*rs, kMessage, 0.5), "BAYES_50"));
    CHECK(has(names(*rs, kMessage, 0.0), "BAYES_00"));
    CHECK(names(*rs, kMessage, std::nullopt).size() == 1);  // only TWO_RCVD: no probability, no BAYES_*
    CHECK(has(names(*rs, kMessage), "TWO_RCVD"));
    CHECK(has(names(*rs, kMessage, std::nullopt, {"RBL"}), "RBL"));
    std::string caps = "Subject: THIS IS ALL CAPS NOW\nFrom: a@b.example\n\nbody\n";
    auto h = names(*rs, caps);
    CHECK(has(h, "ALLCAPS"));
    CHECK(has(h, "MISS_TO"));
    std::vector<std::string> unsup;
    for (const auto& u : rs->unsupported()) unsup.push_back(u.name);
    CHECK(has(unsup, "RAZOR"));
    CHECK(has(unsup, "RBL"));
    CHECK(has(unsup, "UNKNOWN"));
}

TEST_CASE("spam_rules: ReplaceTags") {
    auto rs = load_text(
        "replace_tag   V  (?:v|\\\\\\/)\n"
        "replace_tag   I  (?:i|1|l)\n"
        "replace_inter SP [\\s.]{0,2}\n"
        "body     OBFU  /<inter SP><V><I>agra/i\n"
        "replace_rules OBFU\n");
    CHECK(has(names(*rs, "Subject: x\n\nbuy v1agra now\n"), "OBFU"));
    CHECK(has(names(*rs, "Subject: x\n\nbuy v. iagra now\n"), "OBFU"));
    CHECK(!has(names(*rs, "Subject: x\n\nbuy vxagra now\n"), "OBFU"));
}

TEST_CASE("spam_rules: broken lines are listed, loading never fails on them") {
    auto rs = load_text(
        "body   BAD_RE     /unclosed(/\n"
        "body   NO_DELIM   unclosed\n"
        "header NO_OP      Subject ~ /x/\n"
        "meta   BAD_META   (A && \n"
        "score  SOME_RULE  1 2\n"
        "body   GOOD       /Bob/\n"
        "if (version >=\n"
        "body   IN_BAD_IF  /Bob/\n"
        "endif\n"
        "endif\n");
    CHECK(has(names(*rs, kMessage), "GOOD"));
    std::vector<std::string> unsup;
    for (const auto& u : rs->unsupported()) {
        unsup.push_back(u.name);
        CHECK(u.source.find("50_test.cf:") != std::string::npos);
    }
    for (const char* n : {"BAD_RE", "NO_DELIM", "NO_OP", "BAD_META", "SOME_RULE"}) {
        INFO(n);
        CHECK(has(unsup, n));
    }
    CHECK(!has(names(*rs, kMessage), "IN_BAD_IF"));
}

TEST_CASE("spam_rules: unreadable directories fail with the path") {
    LoadOptions o;
    o.dirs = {"/nonexistent/pmx-rules"};
    auto r = load_rules(o);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("/nonexistent/pmx-rules") != std::string::npos);
    TempDir d;
    d.write("10.cf", "include nope.cf\n");
    o.dirs = {d.path};
    r = load_rules(o);
    REQUIRE(!r.ok());
    CHECK(r.error().message.find("10.cf:1") != std::string::npos);
}

TEST_CASE("spam_rules: URIs and their hosts") {
    auto msg = mail::parse_message(kMessage);
    auto uris = spam::extract_uris(msg);
    CHECK(std::find(uris.begin(), uris.end(), "http://192.0.2.55/x?a=1") != uris.end());
    CHECK(std::find(uris.begin(), uris.end(), "https://img.Example.COM:8080/p.gif") != uris.end());
    CHECK(std::find(uris.begin(), uris.end(), "http://www.example.biz/deal") != uris.end());
    auto hosts = spam::uri_hosts(msg);
    CHECK(hosts == std::vector<std::string>{"192.0.2.55", "img.example.com", "www.example.biz"});
    CHECK(spam::uri_host("mailto:joe@Example.ORG?subject=x") == "example.org");
    CHECK(spam::uri_host("http://user:pw@host.example:81/") == "host.example");
    CHECK(spam::uri_host("javascript:alert(1)") == "");
    CHECK(spam::uri_hosts(uris, 1).size() == 1);
}

TEST_CASE("spam_rules: pmx's own rule files load cleanly") {
    fs::path dir = fs::path(PMX_SOURCE_ROOT) / "share" / "spam";
    LoadOptions o;
    o.dirs = {dir};
    o.bayes_enabled = true;
    auto rs = load_rules(o);
    REQUIRE(rs.ok());
    CHECK((*rs)->unsupported().empty());
    CHECK((*rs)->rule_count() >= 20);
    auto gtube = std::string("Subject: test\n\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\n");
    CHECK(has(names(**rs, gtube), "PMX_GTUBE"));
    CHECK(has(names(**rs, kMessage, 0.995), "BAYES_99"));
    CHECK(has(names(**rs, kMessage), "PMX_URI_NUMERIC_IP"));
}

// Debian's spamassassin package: its rules load (recorded numbers in bench/README.md), and over
// corpus messages vectorscan+PCRE2 finds exactly what PCRE2 alone finds.
TEST_CASE("spam_rules: SpamAssassin's own rules") {
    fs::path sa = "/usr/share/spamassassin";
    if (!fs::exists(sa / "72_active.cf")) {
        MESSAGE("skipped: Debian's spamassassin package is not installed");
        return;
    }
    LoadOptions o;
    o.dirs = {sa};
    o.use_vectorscan = false;
    auto plain = load_rules(o);
    REQUIRE(plain.ok());
    MESSAGE("SpamAssassin rules: " << (*plain)->rule_count() << " run, " << (*plain)->unsupported().size()
                                   << " unsupported");
    CHECK((*plain)->rule_count() > 1500);
    CHECK((*plain)->unsupported().size() < (*plain)->rule_count() / 4);

    fs::path corpus = std::getenv("PMX_CORPUS") ? std::getenv("PMX_CORPUS") : "/work/shared/corpus";
    corpus /= "spamassassin-public";
    if (!fs::exists(corpus)) return;
    // vectorscan compiles SpamAssassin's patterns in about a minute: keep them between runs.
    o.use_vectorscan = true;
    o.cache_dir = fs::temp_directory_path() / "pmx-unit-sa-rules-cache";
    auto fast = load_rules(o);
    REQUIRE(fast.ok());
    CHECK((*fast)->vectorscan_patterns() > 1000);
    int compared = 0;
    for (const char* label : {"ham", "spam"}) {
        for (int i = 1; i <= 400; i += 20) {
            char name[32];
            std::snprintf(name, sizeof name, "%05d.eml", i);
            std::ifstream f(corpus / label / name, std::ios::binary);
            if (!f) continue;
            std::stringstream ss;
            ss << f.rdbuf();
            std::string raw = ss.str();
            auto msg = mail::parse_message(raw);
            CheckInput in{msg, raw, std::nullopt, {}, {}};
            INFO(label << "/" << name);
            CHECK((*fast)->check_all_names(in) == (*plain)->check_all_names(in));
            ++compared;
        }
    }
    CHECK(compared > 20);
}
