// The policy engine: patterns, compile errors, every condition and action, per-recipient
// correctness, and the vendor default policy. Lists come from the in-memory MemoryLists.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "policy/address_match.hpp"
#include "policy/engine.hpp"
#include "policy/memory_lists.hpp"
#include "policy/regex.hpp"
#include "store/list_match.hpp"
#include "util/atomic_file.hpp"

using namespace pmx;
using namespace pmx::policy;
namespace fs = std::filesystem;

namespace {

Policy compile(const std::string& text) {
    auto p = parse_policy(text, "test.toml");
    if (!p) FAIL_CHECK(p.error().message);
    REQUIRE(p.ok());
    return *p;
}

std::string error_of(const std::string& text) {
    auto p = parse_policy(text, "test.toml");
    CHECK_FALSE(p.ok());
    return p ? std::string{} : p.error().message;
}

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

mail::Header header(std::string name, std::string value) { return {name, value, value}; }

// A plain external message to one internal recipient.
struct Case {
    Envelope env{"alice@partner.example", {"bob@example.com"}, "203.0.113.5", "mx.partner.example", "mx.partner.example",
                 "", "Q123"};
    mail::ParsedMessage msg;
    ScanFacts scan;
    MemoryLists lists;
    Site site;

    Case() {
        msg.headers = {header("From", "Alice <alice@partner.example>"), header("To", "bob@example.com"),
                       header("Subject", "Quarterly report")};
        msg.subject = "Quarterly report";
        msg.text = "Hello Bob, the numbers are attached.";
        msg.size = 20000;
        mail::Part body;
        body.content_type = "text/plain";
        mail::Part pdf;
        pdf.content_type = "application/pdf";
        pdf.filename = "Report Q3.PDF";
        pdf.disposition = "attachment";
        pdf.is_attachment = true;
        msg.parts = {body, pdf};
        auto s = make_site({"10.0.0.0/8", "192.168.0.0/16"}, {"example.com", ".example.org"});
        REQUIRE(s.ok());
        site = *s;
    }
    Decision run(const Policy& p, bool trace = true) const {
        return evaluate(p, env, msg, scan, lists, site, EvalOptions{trace});
    }
};

// One rule quarantining on `when`; true when it matched for the first recipient.
bool holds(const std::string& when, const Case& c) {
    auto p = compile("[groups]\nsales = [\"@sales.example.com\", \"carol@example.com\"]\n"
                     "[[rule]]\nname = \"t\"\nwhen = { " + when + " }\nthen = [\"quarantine:hit\"]\n");
    auto d = c.run(p);
    REQUIRE(d.recipients.size() >= 1);
    return d.recipients[0].outcome == Outcome::Quarantine;
}

}  // namespace

TEST_CASE("address patterns: exact, domain, subdomains, local part, wildcards, null sender") {
    auto m = [](std::string_view pattern, std::string_view address) {
        auto p = AddressPattern::parse(pattern);
        REQUIRE(p.ok());
        return p->matches(address);
    };
    CHECK(m("alice@example.com", "Alice@Example.COM"));
    CHECK_FALSE(m("alice@example.com", "alice@example.com.evil"));
    CHECK(m("example.com", "x@example.com"));
    CHECK(m("@example.com", "x@EXAMPLE.com"));
    CHECK_FALSE(m("example.com", "x@sub.example.com"));
    CHECK(m(".example.com", "x@example.com"));
    CHECK(m(".example.com", "x@a.b.example.com"));
    CHECK_FALSE(m(".example.com", "x@badexample.com"));
    CHECK(m("@.example.com", "x@a.example.com"));
    CHECK(m("postmaster@", "PostMaster@anything.example"));
    CHECK_FALSE(m("postmaster@", "postmaster"));
    CHECK(m("*@spam.example", "x@spam.example"));
    CHECK_FALSE(m("*@spam.example", "x@spam.example.org"));
    CHECK(m("*.example.net", "x@mail.example.net"));
    CHECK_FALSE(m("*.example.net", "x@example.net"));
    CHECK(m("news-?@*.example", "news-1@list.example"));
    CHECK(m("<>", ""));
    CHECK_FALSE(m("<>", "a@b"));
    CHECK_FALSE(m("example.com", ""));
    CHECK_FALSE(AddressPattern::parse("").ok());
    CHECK_FALSE(AddressPattern::parse("a b@c").ok());
    CHECK_FALSE(AddressPattern::parse("@").ok());
}

TEST_CASE("glob, domains, hostnames") {
    CHECK(glob_match("*.exe", "INVOICE.EXE"));
    CHECK(glob_match("a*b*c", "axxbyyc"));
    CHECK_FALSE(glob_match("a*b*c", "axxbyy"));
    CHECK(glob_match("*", ""));
    CHECK(glob_match("application/*", "application/zip"));
    auto h = HostnamePattern::parse(".example.com");
    REQUIRE(h.ok());
    CHECK(h->matches("mx1.EXAMPLE.com"));
    CHECK_FALSE(h->matches("unknown"));
    auto u = HostnamePattern::parse("unknown");
    REQUIRE(u.ok());
    CHECK(u->matches(""));
    CHECK(u->matches("unknown"));
    CHECK_FALSE(u->matches("mx.example.com"));
    CHECK_FALSE(DomainPattern::parse("a@b").ok());
}

TEST_CASE("IP addresses and CIDR ranges, IPv4-mapped IPv6 included") {
    auto in = [](std::string_view net, std::string_view ip) {
        auto c = Cidr::parse(net);
        REQUIRE(c.ok());
        auto a = IpAddress::parse(ip);
        REQUIRE(a.has_value());
        return c->contains(*a);
    };
    CHECK(in("192.0.2.0/24", "192.0.2.200"));
    CHECK_FALSE(in("192.0.2.0/24", "192.0.3.1"));
    CHECK(in("192.0.2.7/24", "192.0.2.1"));  // host bits ignored
    CHECK(in("10.0.0.0/8", "::ffff:10.1.2.3"));
    CHECK(in("0.0.0.0/0", "8.8.8.8"));
    CHECK(in("2001:db8::/32", "2001:db8:1::5"));
    CHECK_FALSE(in("2001:db8::/32", "2001:db9::1"));
    CHECK(in("2001:db8::1", "2001:db8::1"));
    CHECK(in("fe80::/10", "fe80::1%eth0"));
    CHECK(in("2001:db8::/33", "[2001:db8::1]"));
    CHECK_FALSE(Cidr::parse("10.0.0/8").ok());
    CHECK_FALSE(Cidr::parse("10.0.0.0/33").ok());
    CHECK_FALSE(Cidr::parse("10.0.0.0/").ok());
    CHECK_FALSE(Cidr::parse("example.com").ok());
    CHECK_FALSE(IpAddress::parse("").has_value());
}

TEST_CASE("extract_addresses reads To/Cc header lists") {
    auto a = extract_addresses("\"Doe, John\" <john@example.com>, jane@example.org (Jane), Team: x@y.example, z@y.example;,"
                               " undisclosed-recipients:;");
    REQUIRE(a.size() == 4);
    CHECK(a[0] == "john@example.com");
    CHECK(a[1] == "jane@example.org");
    CHECK(a[2] == "x@y.example");
    CHECK(a[3] == "z@y.example");
    CHECK(extract_addresses("").empty());
}

TEST_CASE("regex: PCRE2 syntax, invalid UTF-8 subjects, errors with offsets") {
    auto r = Regex::compile("(?i)viagra|c[i1]al[i1]s");
    REQUIRE(r.ok());
    CHECK(r->matches("Cheap VIAGRA now"));
    CHECK(r->matches("c1alis"));
    CHECK_FALSE(r->matches("nothing"));
    CHECK(r->matches("\xff\xfe broken utf8 viagra"));
    auto bad = Regex::compile("(unclosed");
    REQUIRE_FALSE(bad.ok());
    CHECK(contains(bad.error().message, "offset 9"));
}

TEST_CASE("compile errors name file, line, column, rule, and suggest") {
    auto e = error_of("[[rule]]\nname = \"r\"\nwhen = { sendr = \"a@b\" }\nthen = [\"accept\"]\n");
    CHECK(e == "test.toml:3:10: rule \"r\": unknown condition \"sendr\" (did you mean \"sender\"?)");

    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"acept\"]\n");
    CHECK(e == "test.toml:3:9: rule \"r\": unknown action \"acept\" (did you mean \"accept\"?)");

    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"reject:451 no\"]\n");
    CHECK(contains(e, "reject needs a 5xx reply code, got 451"));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"tempfail:550 no\"]\n");
    CHECK(contains(e, "tempfail needs a 4xx reply code, got 550"));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"reject:550 4.7.1 no\"]\n");
    CHECK(contains(e, "enhanced status code 4.7.1 does not fit a 5xx reply"));
    e = error_of("[[rule]]\nname = \"r\"\nwhen = { client_ip = [\"10.0.0.0/8\", \"10.1/16\"] }\nthen = [\"accept\"]\n");
    CHECK(contains(e, "test.toml:3:37: rule \"r\": client_ip: \"10.1/16\" is not an IP address or CIDR range"));
    e = error_of("[groups]\nsales = [\"@s.example\"]\n[[rule]]\nname = \"r\"\nwhen = { recipient_group = \"sale\" }\n"
                 "then = [\"accept\"]\n");
    CHECK(contains(e, "unknown group \"sale\" (did you mean \"sales\"?)"));
    e = error_of("[[rule]]\nname = \"r\"\nwhen = { header = { Subject = \"(x\" } }\nthen = [\"accept\"]\n");
    CHECK(contains(e, "header Subject: bad regular expression \"(x\": missing closing parenthesis"));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"tag_subject:[{spam_scor}]\"]\n");
    CHECK(contains(e, "unknown placeholder \"{spam_scor}\" (did you mean \"{spam_score}\"?)"));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"quarantine:spam\", \"discard\"]\n");
    CHECK(contains(e, "both end the run"));
    e = error_of("[[rule]]\nname = \"r\"\nfor = \"message\"\nwhen = { recipient = \"a@b\" }\nthen = [\"accept\"]\n");
    CHECK(contains(e, "depends on the recipient"));
    e = error_of("[[rule]]\nname = \"r\"\nwhen = { spam_score_at_least = \"high\" }\nthen = [\"accept\"]\n");
    CHECK(contains(e, "spam_score_at_least: expected a number, got a string"));
    e = error_of("[[rule]]\nname = \"r\"\nwhen = { sender_in = \"alow\" }\nthen = [\"accept\"]\n");
    CHECK(contains(e, "(did you mean \"allow\"?)"));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"reject 550 no\"]\n");
    CHECK(contains(e, "put a \":\" after \"reject\""));
    e = error_of("[[rule]]\nname = \"r\"\nthen = [\"add_header:X-Bad: a\\nInjected: 1\"]\n");
    CHECK(contains(e, "control characters"));
    e = error_of("[[rule]]\nname = \"a\"\nthen = [\"accept\"]\n[[rule]]\nname = \"a\"\nthen = [\"accept\"]\n");
    CHECK(contains(e, "test.toml:5:8: rule \"a\": a rule of this name is already at line 1"));
    e = error_of("[[rule]]\nthen = [\"accept\"]\n");
    CHECK(contains(e, "test.toml:1:1: rule #1: the rule has no name"));
}

TEST_CASE("every problem is reported, in file order") {
    auto e = error_of("[[rule]]\nname = \"one\"\nwhen = { virus = \"yes\" }\nthen = [\"discard:now\"]\n"
                      "[[rule]]\nname = \"two\"\nwhen = { size_at_least = \"10 parsecs\" }\nthen = [\"redirect:nobody\"]\n");
    auto lines = std::count(e.begin(), e.end(), '\n') + 1;
    CHECK(lines == 4);
    CHECK(e.find("one") < e.find("two"));
}

TEST_CASE("an unconditional final rule makes later rules unreachable: a warning") {
    auto p = compile("[[rule]]\nname = \"all\"\nthen = [\"accept\"]\n[[rule]]\nname = \"never\"\n"
                     "when = { virus = true }\nthen = [\"reject\"]\n");
    REQUIRE(p.warnings().size() == 1);
    CHECK(p.warnings()[0] ==
          "test.toml:4:1: rule \"never\": warning: never runs: rule \"all\" (line 1) has no conditions and ends the run "
          "with \"accept\"");
    CHECK(p.rule_count() == 2);
}

TEST_CASE("disabled rules do not run") {
    auto p = compile("[[rule]]\nname = \"off\"\nenabled = false\nthen = [\"reject\"]\n");
    CHECK(p.rule_count() == 0);
    CHECK(p.disabled_count() == 1);
    Case c;
    CHECK(c.run(p).recipients[0].outcome == Outcome::Accept);
}

TEST_CASE("conditions: envelope") {
    Case c;
    CHECK(holds("sender = \"alice@partner.example\"", c));
    CHECK(holds("sender = [\"x@y.example\", \".partner.example\"]", c));
    CHECK_FALSE(holds("sender = \"partner.exampl\"", c));
    CHECK(holds("recipient = \"example.com\"", c));
    CHECK_FALSE(holds("recipient = \"*@example.org\"", c));
    CHECK(holds("client_ip = \"203.0.113.0/24\"", c));
    CHECK_FALSE(holds("client_ip = [\"198.51.100.0/24\", \"2001:db8::/32\"]", c));
    CHECK(holds("client_hostname = \".partner.example\"", c));
    CHECK(holds("client_hostname = \"*.partner.example\"", c));
    CHECK_FALSE(holds("client_hostname = \"unknown\"", c));
    CHECK(holds("helo = \"mx.*\"", c));
    CHECK(holds("authenticated = false", c));
    CHECK_FALSE(holds("auth_user = \"*\"", c));
    CHECK(holds("recipient_group = \"sales\"", c) == false);
    c.env.recipients = {"carol@example.com"};
    CHECK(holds("recipient_group = \"sales\"", c));
    c.env.sender = "dave@sales.example.com";
    CHECK(holds("sender_group = \"sales\"", c));
    c.env.auth_user = "dave";
    CHECK(holds("authenticated = true", c));
    CHECK(holds("auth_user = \"da*\"", c));
    c.env.sender = "";
    CHECK(holds("sender = \"<>\"", c));
    CHECK_FALSE(holds("sender = \"*\"", c));
}

TEST_CASE("conditions: content") {
    Case c;
    CHECK(holds("header = { Subject = '(?i)quarterly' }", c));
    CHECK(holds("header = { subject = 'report$', From = 'partner' }", c));  // names case-insensitive, all must match
    CHECK_FALSE(holds("header = { Subject = 'report$', From = 'nobody' }", c));
    CHECK(holds("header = { Subject = ['nothing', 'Quarter'] }", c));
    CHECK_FALSE(holds("header = { X-Mailer = '.' }", c));
    CHECK(holds("header_exists = \"to\"", c));
    CHECK_FALSE(holds("header_exists = [\"X-Spam-Flag\", \"List-Id\"]", c));
    CHECK(holds("body = 'numbers are'", c));
    CHECK_FALSE(holds("body = '(?i)viagra'", c));
    CHECK(holds("size_at_least = 20000", c));
    CHECK_FALSE(holds("size_at_least = \"20K\"", c));  // 20480
    CHECK(holds("size_below = \"1M\"", c));
    CHECK(holds("attachment_name = \"*.pdf\"", c));
    CHECK_FALSE(holds("attachment_name = [\"*.exe\", \"*.scr\"]", c));
    CHECK(holds("attachment_type = \"application/*\"", c));
    CHECK_FALSE(holds("attachment_type = \"text/plain\"", c));  // the body is no attachment
    CHECK_FALSE(holds("mime_flag = \"*\"", c));
    c.msg.flags = {"bad-base64"};
    CHECK(holds("mime_flag = \"bad-*\"", c));
}

TEST_CASE("conditions: scanners, and nothing matches when a scanner did not run") {
    Case c;
    CHECK_FALSE(holds("spam_score_at_least = 0", c));
    CHECK_FALSE(holds("spam_score_below = 100", c));
    CHECK_FALSE(holds("spam_rule = \"*\"", c));
    CHECK_FALSE(holds("virus = true", c));
    CHECK_FALSE(holds("unscannable = true", c));
    c.scan.spam_score = 7.2;
    c.scan.spam_rules = {"BAYES_99", "URIBL_BLACK"};
    CHECK(holds("spam_score_at_least = 5", c));
    CHECK(holds("spam_score_at_least = 7.2", c));
    CHECK_FALSE(holds("spam_score_at_least = 10", c));
    CHECK(holds("spam_score_below = 10.0", c));
    CHECK(holds("spam_rule = \"URIBL_*\"", c));
    CHECK_FALSE(holds("spam_rule = \"DKIM_VALID\"", c));
    c.scan.virus = true;
    c.scan.virus_names = {"Eicar-Signature"};
    CHECK(holds("virus = true", c));
    CHECK(holds("virus_name = \"eicar*\"", c));
    c.scan.unscannable = true;
    CHECK(holds("unscannable = true", c));
}

TEST_CASE("conditions: lists, global and per user") {
    Case c;
    CHECK_FALSE(holds("sender_in = \"allow\"", c));
    REQUIRE(c.lists.add_sender(ListKind::Allow, "bob@example.com", "partner.example").ok());
    CHECK(holds("sender_in = \"allow\"", c));
    CHECK(holds("sender_in = \"user-allow\"", c));
    CHECK_FALSE(holds("sender_in = \"global-allow\"", c));
    CHECK_FALSE(holds("sender_in = \"block\"", c));
    REQUIRE(c.lists.add_sender(ListKind::Block, "", "*@partner.example").ok());
    CHECK(holds("sender_in = \"global-block\"", c));
    CHECK_FALSE(holds("client_in = \"block\"", c));
    REQUIRE(c.lists.add_host(ListKind::Block, "", "203.0.113.0/24").ok());
    CHECK(holds("client_in = \"block\"", c));
    REQUIRE(c.lists.add_host(ListKind::Allow, "bob@example.com", ".partner.example").ok());
    CHECK(holds("client_in = \"user-allow\"", c));
    c.env.sender = "";
    CHECK_FALSE(holds("sender_in = \"global-block\"", c));  // the null sender is never listed
}

TEST_CASE("conditions: a domain's lists count for every recipient there, after their own") {
    Case c;  // 203.0.113.5 → bob@example.com
    REQUIRE(c.lists.add_sender(ListKind::Allow, "@example.com", "partner.example").ok());
    CHECK(holds("sender_in = \"user-allow\"", c));
    CHECK_FALSE(holds("sender_in = \"global-allow\"", c));
    REQUIRE(c.lists.add_host(ListKind::Block, "@example.com", "203.0.113.0/24").ok());
    CHECK(holds("client_in = \"user-block\"", c));
    c.env.recipients = {"carol@example.org"};  // another domain: not its lists
    CHECK_FALSE(holds("sender_in = \"user-allow\"", c));
    CHECK_FALSE(holds("client_in = \"user-block\"", c));
}

TEST_CASE("conditions: internal and external, direction") {
    Case c;  // 203.0.113.5 → bob@example.com
    CHECK(holds("internal_sender = false", c));
    CHECK(holds("internal_recipient = true", c));
    CHECK(holds("direction = \"inbound\"", c));
    c.env.recipients = {"x@sub.example.org"};
    CHECK(holds("direction = \"inbound\"", c));  // .example.org: the domain and its subdomains
    c.env.recipients = {"x@elsewhere.example"};
    CHECK(holds("direction = \"transit\"", c));
    c.env.client_ip = "192.168.1.10";
    CHECK(holds("internal_sender = true", c));
    CHECK(holds("direction = \"outbound\"", c));
    c.env.recipients = {"bob@example.com"};
    CHECK(holds("direction = \"internal\"", c));
    c.env.recipients = {"x@elsewhere.example"};
    CHECK(holds("direction = \"outbound\"", c));
    c.env.client_ip = "198.51.100.1";
    c.env.auth_user = "roaming";
    CHECK(holds("internal_sender = true", c));  // SMTP AUTH counts as internal
    c.env.auth_user = "";
    c.env.client_ip = "";
    CHECK(holds("internal_sender = true", c));  // local submission
}

TEST_CASE("conditions: any, not, nesting") {
    Case c;
    CHECK(holds("any = [{ sender = \"x@y.example\" }, { recipient = \"bob@example.com\" }]", c));
    CHECK_FALSE(holds("any = [{ sender = \"x@y.example\" }, { virus = true }]", c));
    CHECK(holds("not = { virus = true }", c));
    CHECK_FALSE(holds("not = { sender = \".partner.example\", authenticated = false }", c));
    CHECK(holds("not = { sender = \".partner.example\", authenticated = true }", c));
    CHECK(holds("any = [{ not = { recipient = \"x@y.example\" } }], size_at_least = 1", c));
}

TEST_CASE("actions: verdicts, codes, placeholders") {
    Case c;
    c.scan.virus = true;
    c.scan.virus_names = {"Eicar\r\nInjected: yes"};
    auto d = c.run(compile("[[rule]]\nname = \"v\"\nwhen = { virus = true }\n"
                           "then = [\"reject:554 5.7.0 Virus {virus_name} from {sender} to {recipient} ({rule}, {queue_id}, {client_ip})\"]\n"));
    const auto& r = d.recipients[0];
    CHECK(r.outcome == Outcome::Reject);
    CHECK(r.smtp_code == "554");
    CHECK(r.smtp_xcode == "5.7.0");
    CHECK(r.smtp_text ==
          "Virus Eicar  Injected: yes from alice@partner.example to bob@example.com (v, Q123, 203.0.113.5)");
    CHECK(r.decided_by == "v");

    d = c.run(compile("[[rule]]\nname = \"r\"\nthen = [\"reject\"]\n"));
    CHECK(d.recipients[0].smtp_code == "550");
    CHECK(d.recipients[0].smtp_xcode == "5.7.1");
    CHECK(d.recipients[0].smtp_text == "Message rejected by policy");
    d = c.run(compile("[[rule]]\nname = \"r\"\nthen = [\"tempfail:452 Mailbox busy\"]\n"));
    CHECK(d.recipients[0].outcome == Outcome::Tempfail);
    CHECK(d.recipients[0].smtp_code == "452");
    CHECK(d.recipients[0].smtp_xcode == "");
    CHECK(d.recipients[0].smtp_text == "Mailbox busy");
    d = c.run(compile("[[rule]]\nname = \"r\"\nthen = [\"tempfail\"]\n"));
    CHECK(d.recipients[0].smtp_code == "451");
    CHECK(d.recipients[0].smtp_xcode == "4.7.1");

    d = c.run(compile("[[rule]]\nname = \"q\"\nthen = [\"quarantine\"]\n"));
    CHECK(d.recipients[0].outcome == Outcome::Quarantine);
    CHECK(d.recipients[0].quarantine_reason == "q");  // default reason: the rule name
    CHECK(d.any_quarantine());
    d = c.run(compile("[[rule]]\nname = \"d\"\nthen = [\"discard\"]\n"));
    CHECK(d.recipients[0].outcome == Outcome::Discard);
    d = c.run(compile("[[rule]]\nname = \"re\"\nthen = [\"redirect:abuse@example.com, archive@example.com\"]\n"));
    CHECK(d.recipients[0].outcome == Outcome::Accept);
    CHECK(d.recipients[0].redirect_to == std::vector<std::string>{"abuse@example.com", "archive@example.com"});
    d = c.run(compile("[[rule]]\nname = \"a\"\nthen = [\"accept\"]\n[[rule]]\nname = \"b\"\nwhen = { virus = true }\nthen = [\"reject\"]\n"));
    CHECK(d.recipients[0].outcome == Outcome::Accept);
    CHECK(d.recipients[0].decided_by == "a");
}

TEST_CASE("actions: non-final ones add up and evaluation continues") {
    Case c;
    c.scan.spam_score = 6;
    c.scan.spam_rules = {"A", "B"};
    auto d = c.run(compile(
        "[[rule]]\nname = \"mark\"\nthen = [\"remove_header:X-Spam\", \"replace_header:X-Scanned: pmx\", "
        "\"add_header:X-Score: {spam_score} ({spam_rules})\", \"tag_subject:[SPAM]\", \"quarantine_copy:audit\", "
        "\"copy_to:archive@example.com\", \"notify:postmaster@example.com spam-alert\", \"notify:recipient\", "
        "\"notify:sender\"]\n"
        "[[rule]]\nname = \"again\"\nthen = [\"tag_subject:[SPAM]\", \"tag_subject:[EXT]\", \"copy_to:archive@example.com\"]\n"));
    const auto& r = d.recipients[0];
    CHECK(r.outcome == Outcome::Accept);
    CHECK(r.decided_by == "");
    CHECK(r.quarantine_reason == "audit");
    REQUIRE(r.header_edits.size() == 3);
    CHECK(r.header_edits[0] == HeaderEdit{HeaderEditKind::Remove, "X-Spam", ""});
    CHECK(r.header_edits[1] == HeaderEdit{HeaderEditKind::Replace, "X-Scanned", "pmx"});
    CHECK(r.header_edits[2] == HeaderEdit{HeaderEditKind::Add, "X-Score", "6.0 (A,B)"});
    CHECK(r.subject_tag == "[SPAM] [EXT]");
    CHECK(d.header_edits == r.header_edits);
    CHECK(d.subject_tag == "[SPAM] [EXT]");
    CHECK(d.add_recipients == std::vector<std::string>{"archive@example.com"});
    REQUIRE(d.notifications.size() == 3);
    CHECK(d.notifications[0].to == "postmaster@example.com");
    CHECK(d.notifications[0].template_name == "spam-alert");
    CHECK(d.notifications[1].to == "alice@partner.example");  // message-wide ones first
    CHECK(d.notifications[2].to == "bob@example.com");
    CHECK(d.notifications[2].recipient == "bob@example.com");
    CHECK(d.notifications[2].template_name == "policy");
    CHECK_FALSE(d.copies_differ());
}

TEST_CASE("per recipient: a per-user allow entry skips the spam rule for that recipient only") {
    Case c;
    c.env.recipients = {"bob@example.com", "carol@example.com"};
    c.scan.spam_score = 12;
    REQUIRE(c.lists.add_sender(ListKind::Allow, "carol@example.com", "alice@partner.example").ok());
    auto p = compile("[[rule]]\nname = \"allow\"\nwhen = { sender_in = \"allow\" }\nthen = [\"accept\"]\n"
                     "[[rule]]\nname = \"spam\"\nwhen = { spam_score_at_least = 10 }\nthen = [\"quarantine:spam\"]\n");
    auto d = c.run(p);
    REQUIRE(d.recipients.size() == 2);
    CHECK(d.recipients[0].recipient == "bob@example.com");
    CHECK(d.recipients[0].outcome == Outcome::Quarantine);
    CHECK(d.recipients[0].decided_by == "spam");
    CHECK(d.recipients[1].outcome == Outcome::Accept);
    CHECK(d.recipients[1].decided_by == "allow");
    // The trace shows both recipients for the per-recipient rule, and only bob for the spam rule.
    REQUIRE(d.trace.size() == 3);
    CHECK(d.trace[0].recipient == "bob@example.com");
    CHECK_FALSE(d.trace[0].matched);
    CHECK(d.trace[1].recipient == "carol@example.com");
    CHECK(d.trace[1].matched);
    CHECK(contains(d.trace[1].why, "on the allow list of carol@example.com (entry \"alice@partner.example\")"));
    CHECK(d.trace[2].rule == "spam");
    CHECK(d.trace[2].recipient == "");  // message-wide rule, run once for the recipients left
    CHECK(contains(d.trace[2].why, "spam_score_at_least = 10: score 12.0"));
}

TEST_CASE("per recipient: one rejected, one accepted; tags differ and the copies say so") {
    Case c;
    c.env.recipients = {"former@example.com", "bob@example.com", "guest@example.com"};
    c.scan.spam_score = 6;
    REQUIRE(c.lists.add_sender(ListKind::Allow, "guest@example.com", ".partner.example").ok());
    auto p = compile("[groups]\ngone = [\"former@example.com\"]\n"
                     "[[rule]]\nname = \"left the company\"\nwhen = { recipient_group = \"gone\" }\n"
                     "then = [\"reject:550 5.1.1 {recipient} has left\"]\n"
                     "[[rule]]\nname = \"allow\"\nwhen = { sender_in = \"user-allow\" }\nthen = [\"accept\"]\n"
                     "[[rule]]\nname = \"spam\"\nwhen = { spam_score_at_least = 5 }\nthen = [\"tag_subject:[SPAM]\"]\n");
    auto d = c.run(p);
    CHECK(d.recipients[0].outcome == Outcome::Reject);
    CHECK(d.recipients[0].smtp_text == "former@example.com has left");
    CHECK(d.recipients[1].outcome == Outcome::Accept);
    CHECK(d.recipients[1].subject_tag == "[SPAM]");
    CHECK(d.recipients[2].outcome == Outcome::Accept);
    CHECK(d.recipients[2].subject_tag == "");
    CHECK(d.copies_differ());
    CHECK(d.subject_tag == "[SPAM]");  // the union for a single shared copy
}

TEST_CASE("per recipient: an allow list never releases a message another rule already decided for others") {
    Case c;
    c.env.recipients = {"bob@example.com", "carol@example.com"};
    c.scan.virus = true;
    c.scan.virus_names = {"Eicar"};
    REQUIRE(c.lists.add_sender(ListKind::Allow, "carol@example.com", "partner.example").ok());
    REQUIRE(c.lists.add_sender(ListKind::Block, "bob@example.com", "partner.example").ok());
    auto p = load_policy_file(fs::path(PMX_SOURCE_ROOT) / "share/policy.toml");
    REQUIRE(p.ok());
    auto d = c.run(*p);
    CHECK(d.recipients[0].outcome == Outcome::Quarantine);  // virus first, for both
    CHECK(d.recipients[1].outcome == Outcome::Quarantine);
    c.scan.virus = false;
    d = c.run(*p);
    CHECK(d.recipients[0].outcome == Outcome::Quarantine);  // bob blocked the sender
    CHECK(d.recipients[0].quarantine_reason == "block-listed");
    CHECK(d.recipients[1].outcome == Outcome::Accept);  // carol allowed it
    CHECK(d.recipients[1].decided_by == "allow-listed senders");
}

TEST_CASE("for = each-recipient on a recipient-independent rule evaluates it per recipient") {
    Case c;
    c.env.recipients = {"a@example.com", "b@example.com"};
    auto d = c.run(compile("[[rule]]\nname = \"r\"\nfor = \"each-recipient\"\nthen = [\"notify:postmaster@example.com\"]\n"));
    CHECK(d.trace.size() == 2);
    CHECK(d.notifications.size() == 2);
    d = c.run(compile("[[rule]]\nname = \"r\"\nthen = [\"notify:postmaster@example.com\"]\n"));
    CHECK(d.trace.size() == 1);
    CHECK(d.notifications.size() == 1);
}

TEST_CASE("trace: why a rule matched or did not, actions taken; off when not asked") {
    Case c;
    c.scan.spam_score = 3.14;
    auto p = compile("[[rule]]\nname = \"spam\"\nwhen = { sender = \".partner.example\", spam_score_at_least = 5 }\n"
                     "then = [\"quarantine:spam\"]\n"
                     "[[rule]]\nname = \"ext\"\nwhen = { internal_sender = false, any = [{ virus = true }, { header = { Subject = 'report' } }] }\n"
                     "then = [\"tag_subject:[EXT]\"]\n");
    auto d = c.run(p);
    REQUIRE(d.trace.size() == 2);
    CHECK_FALSE(d.trace[0].matched);
    CHECK(d.trace[0].why == "spam_score_at_least = 5: score 3.1");
    CHECK(d.trace[0].actions.empty());
    CHECK(d.trace[1].matched);
    CHECK(d.trace[1].why ==
          "internal_sender = false: external sender (client 203.0.113.5 is not in general.internal_networks); any: "
          "alternative 2 of 2 held (header Subject =~ \"report\": matched Subject: \"Quarterly report\")");
    CHECK(d.trace[1].actions == std::vector<std::string>{"tag_subject:[EXT]"});
    auto quiet = c.run(p, false);
    CHECK(quiet.trace.empty());
    CHECK(quiet.recipients[0].subject_tag == "[EXT]");
}

TEST_CASE("the vendor default policy parses clean and does what an admin expects") {
    auto p = load_policy_file(fs::path(PMX_SOURCE_ROOT) / "share/policy.toml");
    REQUIRE(p.ok());
    CHECK(p->warnings().empty());
    CHECK(p->rule_count() >= 7);

    Case c;
    auto verdict = [&](const Case& k) { return k.run(*p).recipients[0]; };
    // No scanner ran: nothing to hold; stamped.
    auto r = verdict(c);
    CHECK(r.outcome == Outcome::Accept);
    CHECK(r.decided_by == "");
    CHECK(r.header_edits == std::vector<HeaderEdit>{{HeaderEditKind::Remove, "X-PMX-Spam", ""},
                                                    {HeaderEditKind::Replace, "X-PMX-Scanned", "yes"}});
    // Spam: tagged at 5, quarantined at 10.
    c.scan.spam_score = 5.5;
    c.scan.spam_rules = {"BAYES_80"};
    r = verdict(c);
    CHECK(r.outcome == Outcome::Accept);
    CHECK(r.subject_tag == "[SPAM]");
    CHECK(r.header_edits.back() == HeaderEdit{HeaderEditKind::Add, "X-PMX-Spam", "yes, score=5.5, rules=BAYES_80"});
    c.scan.spam_score = 10;
    CHECK(verdict(c).outcome == Outcome::Quarantine);
    CHECK(verdict(c).quarantine_reason == "spam");
    // Allow-listed senders pass despite the score; block-listed are quarantined.
    REQUIRE(c.lists.add_sender(ListKind::Allow, "", "alice@partner.example").ok());
    CHECK(verdict(c).outcome == Outcome::Accept);
    Case b;
    REQUIRE(b.lists.add_host(ListKind::Block, "", "203.0.113.0/24").ok());
    CHECK(verdict(b).outcome == Outcome::Quarantine);
    CHECK(verdict(b).quarantine_reason == "block-listed");
    // Viruses: from outside quarantined (even allow-listed), from inside rejected.
    c.scan.virus = true;
    c.scan.virus_names = {"Eicar-Test-Signature"};
    CHECK(verdict(c).outcome == Outcome::Quarantine);
    CHECK(verdict(c).quarantine_reason == "virus Eicar-Test-Signature");
    c.env.client_ip = "10.1.2.3";
    r = verdict(c);
    CHECK(r.outcome == Outcome::Reject);
    CHECK(r.smtp_code == "550");
    CHECK(r.smtp_text == "Message contains a virus (Eicar-Test-Signature)");
    Case u;
    u.scan.unscannable = true;
    CHECK(verdict(u).outcome == Outcome::Quarantine);
}

TEST_CASE("load_policy prefers the admin file over the vendor file") {
    char tmpl[] = "/tmp/pmx-policy-XXXXXX";
    fs::path dir = mkdtemp(tmpl);
    config::Layout layout{dir / "vendor", dir / "etc"};
    fs::create_directories(layout.vendor_dir);
    fs::create_directories(layout.config_dir);
    REQUIRE(write_file_atomically(layout.vendor_dir / "policy.toml", "[[rule]]\nname = \"vendor\"\nthen = [\"accept\"]\n").ok());
    auto p = load_policy(layout);
    REQUIRE(p.ok());
    CHECK(p->rule_names() == std::vector<std::string>{"vendor"});
    REQUIRE(write_file_atomically(layout.config_dir / "policy.toml", "[[rule]]\nname = \"admin\"\nthen = [\"accept\"]\n").ok());
    p = load_policy(layout);
    REQUIRE(p.ok());
    CHECK(p->rule_names() == std::vector<std::string>{"admin"});
    CHECK(p->file() == (layout.config_dir / "policy.toml").string());
    fs::remove_all(dir);
    auto missing = load_policy(layout);
    CHECK_FALSE(missing.ok());
}

TEST_CASE("make_site reports every bad entry") {
    auto s = make_site({"10.0.0.0/8", "10.0.0/8"}, {"example.com", "a@b"});
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().message ==
          "general.internal_networks: \"10.0.0/8\" is not an IP address or CIDR range\n"
          "general.internal_domains: \"a@b\" is an address, not a domain");
}

TEST_CASE("policy conditions and the stored allow/block lists read patterns the same way") {
    // lib/store/list_match.hpp matches list entries; address_match.hpp matches policy conditions.
    // An admin writing the same pattern in either place must get the same senders and clients.
    const char* senders[] = {"alice@example.com", "ALICE@Example.com", "x@example.com", "x@sub.example.com",
                             "x@badexample.com", "", "news-1@list.example", "x@spam.example"};
    const char* sender_patterns[] = {"alice@example.com", "example.com", "@example.com", ".example.com",
                                     "@.example.com", "*@spam.example", "*.example", "news-?@*", "<>"};
    for (auto pattern : sender_patterns) {
        auto ours = AddressPattern::parse(pattern);
        REQUIRE(ours.ok());
        auto stored = store::normalize_pattern(store::EntryType::Sender, pattern);
        REQUIRE(stored.ok());
        for (auto sender : senders) {
            CAPTURE(pattern);
            CAPTURE(sender);
            CHECK(ours->matches(sender) == store::sender_matches(*stored, sender));
        }
    }
    struct Client {
        const char *ip, *host;
    } clients[] = {{"192.0.2.7", "mx.example.com"}, {"::ffff:192.0.2.9", ""}, {"2001:db8::5", "unknown"},
                   {"198.51.100.1", "a.b.example.com"}};
    const char* networks[] = {"192.0.2.0/24", "192.0.2.7", "2001:db8::/32"};
    for (auto net : networks) {
        auto ours = Cidr::parse(net);
        REQUIRE(ours.ok());
        auto stored = store::normalize_pattern(store::EntryType::Host, net);
        REQUIRE(stored.ok());
        for (auto c : clients) {
            CAPTURE(net);
            CAPTURE(c.ip);
            CHECK(ours->contains(*IpAddress::parse(c.ip)) == store::host_matches(*stored, c.ip, c.host));
        }
    }
    const char* hostnames[] = {"mx.example.com", ".example.com", "*.example.com"};
    for (auto h : hostnames) {
        auto ours = HostnamePattern::parse(h);
        REQUIRE(ours.ok());
        auto stored = store::normalize_pattern(store::EntryType::Host, h);
        REQUIRE(stored.ok());
        for (auto c : clients) {
            CAPTURE(h);
            CAPTURE(c.host);
            CHECK(ours->matches(c.host) == store::host_matches(*stored, "", c.host));
        }
    }
}
