// The MIME parser on whole messages: structure, defaults, caps and hostile input.
#include <doctest/doctest.h>

#include <string>

#include "mail/charset.hpp"
#include "mail/headers.hpp"
#include "mail/mime.hpp"

using namespace pmx::mail;
using namespace std::string_literals;

namespace {

std::string crlf(std::string s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

// A multipart/mixed message with the given parts (each "headers\n\nbody").
std::string multipart(const std::vector<std::string>& parts, const std::string& boundary = "b") {
    std::string m = "From: a@example.com\nSubject: test\nContent-Type: multipart/mixed; boundary=\"" + boundary + "\"\n\n";
    for (const auto& p : parts) m += "--" + boundary + "\n" + p + "\n";
    return m + "--" + boundary + "--\n";
}

std::string nested(int levels, const std::string& leaf) {
    std::string m = "Subject: nested\n";
    for (int d = 0; d < levels; ++d) m += "Content-Type: multipart/mixed; boundary=\"l" + std::to_string(d) + "\"\n\n--l" + std::to_string(d) + "\n";
    m += leaf + "\n";
    for (int d = levels; d-- > 0;) m += "--l" + std::to_string(d) + "--\n";
    return m;
}

}  // namespace

TEST_CASE("a plain message: defaults, headers, subject, body range") {
    std::string raw = "From: Alice <a@example.com>\nSubject: Hello\n  world\nX-Empty:\n\nBody line\n";
    ParsedMessage m = parse_message(raw);
    CHECK(m.size == raw.size());
    REQUIRE(m.headers.size() == 3);
    CHECK(m.headers[1].name == "Subject");
    CHECK(m.headers[1].raw == "Hello  world");
    CHECK(m.subject == "Hello  world");
    CHECK(m.headers[2].raw == "");
    REQUIRE(m.parts.size() == 1);
    const Part& p = m.parts[0];
    CHECK(p.content_type == "text/plain");
    CHECK(p.charset == "us-ascii");
    CHECK(p.transfer_encoding == "7bit");
    CHECK(p.depth == 0);
    CHECK_FALSE(p.is_attachment);
    CHECK(p.headers.size() == 3);
    CHECK(p.text == "Body line\n");
    CHECK(raw.substr(p.body_offset, p.body_length) == "Body line\n");
    CHECK(m.text == "Body line\n");
    CHECK(m.flags.empty());

    CHECK(m.header("subject") == &m.headers[1]);
    CHECK(m.header("SUBJECT") == &m.headers[1]);
    CHECK(m.header("Cc") == nullptr);
    CHECK(m.headers_named("from").size() == 1);
    CHECK_FALSE(m.has_flag("too-many-parts"));
}

TEST_CASE("CRLF, LF and CR-only line ends give the same structure") {
    std::string lf = multipart({"Content-Type: text/plain\n\nfirst\nline", "Content-Type: text/html\n\n<p>second</p>",
                                "Content-Type: application/pdf; name=x.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0x\nLjQK"});
    std::string cr = lf;
    for (char& c : cr)
        if (c == '\n') c = '\r';
    for (const std::string& raw : {lf, crlf(lf), cr}) {
        ParsedMessage m = parse_message(raw);
        REQUIRE(m.parts.size() == 3);
        CHECK(m.parts[0].text == "first\nline");
        CHECK(m.parts[1].text == "second");
        CHECK(m.parts[2].decoded_size == 9);
        CHECK(m.parts[2].filename == "x.pdf");
        CHECK(decode_base64(raw.substr(m.parts[2].body_offset, m.parts[2].body_length)) == "%PDF-1.4\n");
        CHECK(m.text == "first\nline\nsecond");
        CHECK(m.has_flag("cr-line-ends") == (raw == cr));
    }
}

TEST_CASE("attachments: detection, names, declared type and decoded size without a copy") {
    std::string raw = multipart({
        "Content-Type: text/plain\n\nbody",
        "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + std::string(76, 'A') + "\n" + std::string(76, 'A'),
        "Content-Type: text/plain\nContent-Disposition: attachment\n\nattached text",
        "Content-Type: text/csv; name=\"data.csv\"\n\na,b",
        "Content-Type: image/gif\nContent-Disposition: inline\nContent-Transfer-Encoding: quoted-printable\n\nGIF=38=39a",
        "Content-Type: application/pdf\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC.pdf\n\n%PDF",
        "Content-Type: application/zip\nContent-Disposition: attachment;\n filename*0*=ISO-8859-1''%E4rger;\n filename*1*=%20und%20;\n filename*2=\"mehr.zip\"\n\nPK",
        "Content-Type: application/x-msdownload; name=\"=?utf-8?B?cmVjaG51bmcuZXhl?=\"\n\nMZ",
    });
    ParsedMessage m = parse_message(raw);
    REQUIRE(m.parts.size() == 8);
    CHECK_FALSE(m.parts[0].is_attachment);
    CHECK(m.parts[1].is_attachment);
    CHECK(m.parts[1].decoded_size == 114);
    CHECK(m.parts[1].text.empty());
    CHECK(m.parts[2].is_attachment);
    CHECK(m.parts[2].disposition == "attachment");
    CHECK(m.parts[2].text == "attached text");  // text/* attachments keep their text...
    CHECK(m.parts[3].is_attachment);
    CHECK(m.parts[3].filename == "data.csv");
    CHECK(m.text == "body");                    // ...but it is not the message's text
    CHECK(m.parts[4].is_attachment);
    CHECK(m.parts[4].decoded_size == 6);
    CHECK(m.parts[5].filename == "\xE2\x82\xAC.pdf");
    CHECK(m.parts[6].filename == "\xC3\xA4rger und mehr.zip");
    CHECK(m.parts[7].filename == "rechnung.exe");
    CHECK(m.parts[7].content_type == "application/x-msdownload");
    CHECK(m.flags.empty());
}

TEST_CASE("RFC 2231 parameters") {
    using namespace pmx::mail::detail;
    FlagSet flags;
    FieldValue f = parse_field(
        "attachment; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; "
        "title*2=\"isn't it!\"",
        flags);
    CHECK(f.value == "attachment");
    REQUIRE(f.param("title"));
    CHECK(*f.param("title") == "This is even more ***fun*** isn't it!");
    CHECK(flags.empty());

    f = parse_field("inline; filename*2=c; filename*0=a; filename*1=b", flags);
    CHECK(*f.param("filename") == "abc");
    f = parse_field("inline; filename=\"plain.txt\"; filename*=utf-8''better.txt", flags);
    CHECK(*f.param("filename") == "better.txt");
    CHECK(flags.empty());

    f = parse_field("inline; name*0*=koi8-r''%F4%C5; name*1*=%D3%D4", flags);
    CHECK(*f.param("name") == "\xD0\xA2\xD0\xB5\xD1\x81\xD1\x82");  // bytes joined before conversion

    f = parse_field("inline; filename*0=a; filename*2=c", flags);  // a gap
    CHECK(*f.param("filename") == "ac");
    CHECK(flags.has(Flag::BadParameter));

    flags = {};
    f = parse_field("inline; filename*=no-quotes%41", flags);  // no charset'lang' part
    CHECK(*f.param("filename") == "no-quotesA");
    CHECK(flags.has(Flag::BadParameter));

    flags = {};
    f = parse_field("inline; filename*=x-nonsense''caf%E9", flags);
    CHECK(*f.param("filename") == "caf\xC3\xA9");
    CHECK(flags.has(Flag::UnknownCharset));

    flags = {};
    f = parse_field("Text/HTML (comment) ; Charset = \"UTF-8\" ; ; junk ; name=\"unterminated", flags);
    CHECK(f.value == "text/html");
    CHECK(*f.param("charset") == "UTF-8");
    CHECK(*f.param("name") == "unterminated");
    CHECK(flags.has(Flag::BadParameter));

    flags = {};
    f = parse_field("multipart/mixed; boundary=\"=?utf-8?q?x?=\"", flags);
    CHECK(*f.param("boundary") == "=?utf-8?q?x?=");  // a boundary is bytes, never decoded
}

TEST_CASE("multipart/alternative prefers the plain text, keeps the HTML") {
    std::string alt = "Content-Type: multipart/alternative; boundary=alt\n\n--alt\nContent-Type: text/plain\n\nplain version\n"
                      "--alt\nContent-Type: text/html\n\n<p>html <b>version</b></p>\n--alt--";
    ParsedMessage m = parse_message("Subject: x\n" + alt + "\n");
    REQUIRE(m.parts.size() == 2);
    CHECK(m.text == "plain version");
    CHECK(m.html == "<p>html <b>version</b></p>");
    CHECK(m.parts[1].text == "html version");

    // An empty plain part (a common trick) does not hide the HTML.
    std::string empty = "Subject: x\nContent-Type: multipart/alternative; boundary=alt\n\n--alt\nContent-Type: text/plain\n\n \n"
                        "--alt\nContent-Type: text/html\n\n<p>buy now</p>\n--alt--\n";
    m = parse_message(empty);
    CHECK(m.text == " \nbuy now");

    // Outside an alternative, both count.
    m = parse_message(multipart({"Content-Type: text/plain\n\none", "Content-Type: text/html\n\n<i>two</i>"}));
    CHECK(m.text == "one\ntwo");
}

TEST_CASE("message/rfc822 and multipart/digest") {
    std::string inner = "From: x@example.org\nSubject: inner\nContent-Type: multipart/mixed; boundary=in\n\n"
                        "--in\nContent-Type: text/plain\n\ninner text\n--in\nContent-Type: application/zip; name=a.zip\n\nPK\n--in--\n";
    ParsedMessage m = parse_message(multipart({"Content-Type: message/rfc822\n\n" + inner}));
    REQUIRE(m.parts.size() == 3);
    CHECK(m.parts[0].content_type == "message/rfc822");
    CHECK(m.parts[0].is_attachment);
    CHECK(m.parts[0].depth == 1);
    CHECK(m.parts[1].depth == 3);
    CHECK(m.parts[1].text == "inner text");
    CHECK(m.parts[2].filename == "a.zip");
    CHECK(m.subject == "test");
    CHECK(m.text == "inner text");

    // Transfer-encoded: decoded and parsed; the inner parts have no range in the raw message.
    std::string encoded = multipart({"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + [&] {
        std::string b64;
        static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (std::size_t i = 0; i < inner.size(); i += 3) {
            unsigned v = static_cast<unsigned char>(inner[i]) << 16;
            if (i + 1 < inner.size()) v |= static_cast<unsigned char>(inner[i + 1]) << 8;
            if (i + 2 < inner.size()) v |= static_cast<unsigned char>(inner[i + 2]);
            b64 += t[(v >> 18) & 63];
            b64 += t[(v >> 12) & 63];
            b64 += i + 1 < inner.size() ? t[(v >> 6) & 63] : '=';
            b64 += i + 2 < inner.size() ? t[v & 63] : '=';
        }
        return b64;
    }()});
    m = parse_message(encoded);
    REQUIRE(m.parts.size() == 3);
    CHECK(m.parts[0].decoded_size == inner.size());
    CHECK(m.parts[0].body_in_raw);
    CHECK_FALSE(m.parts[2].body_in_raw);
    CHECK(m.parts[2].filename == "a.zip");
    CHECK(m.has_flag("encoded-message"));

    std::string digest = "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nfirst\n--d\n\nSubject: two\n\nsecond\n--d--\n";
    m = parse_message(digest);
    REQUIRE(m.parts.size() == 4);
    CHECK(m.parts[0].content_type == "message/rfc822");
    CHECK(m.parts[1].text == "first");
    CHECK(m.parts[1].headers.at(0).value == "one");
    CHECK(m.parts[3].text == "second");
}

TEST_CASE("nesting: 30 levels against the depth cap") {
    std::string raw = nested(30, "Content-Type: text/plain\n\ndeep");
    ParsedMessage m = parse_message(raw);
    CHECK(m.has_flag("mime-depth-exceeded"));
    REQUIRE(m.parts.size() == 1);
    CHECK(m.parts[0].depth == 20);
    CHECK(m.parts[0].content_type == "multipart/mixed");
    CHECK(m.parts[0].is_attachment);  // what could not be looked into is for the antivirus

    ParseLimits deep;
    deep.max_depth = 40;
    m = parse_message(raw, deep);
    CHECK(m.flags.empty());
    REQUIRE(m.parts.size() == 1);
    CHECK(m.parts[0].depth == 30);
    CHECK(m.parts[0].text == "deep");

    ParseLimits none;
    none.max_depth = 0;
    m = parse_message(raw, none);
    REQUIRE(m.parts.size() == 1);
    CHECK(m.parts[0].depth == 0);
    none.max_depth = -5;
    CHECK(parse_message(raw, none).parts.size() == 1);

    // Far deeper than any cap: no stack exhaustion.
    ParseLimits huge;
    huge.max_depth = 1'000'000;
    m = parse_message(nested(5000, "Content-Type: text/plain\n\ndeep"), huge);
    CHECK(m.has_flag("mime-depth-exceeded"));
}

TEST_CASE("5000 parts against the parts cap") {
    std::vector<std::string> parts(5000, "Content-Type: text/plain\n\nx");
    std::string raw = multipart(parts);
    ParsedMessage m = parse_message(raw);
    CHECK(m.parts.size() == 1000);
    CHECK(m.has_flag("too-many-parts"));

    ParseLimits many;
    many.max_parts = 10000;
    m = parse_message(raw, many);
    CHECK(m.parts.size() == 5000);
    CHECK(m.flags.empty());
    CHECK(m.text.size() == 2 * 5000 - 1);
}

TEST_CASE("boundaries: inside base64, sharing a prefix, missing, unterminated") {
    SUBCASE("a boundary string inside base64 lines is data") {
        std::string b64 = "QUJDQUJDQUJD--QUJD\nQUJDQUJD\n";
        ParsedMessage m = parse_message(multipart({"Content-Transfer-Encoding: base64\nContent-Type: application/x-y\n\n" + b64,
                                                   "Content-Type: text/plain\n\nafter"},
                                                  "QUJD"));
        REQUIRE(m.parts.size() == 2);
        CHECK(m.parts[0].decoded_size == 18);
        CHECK(m.parts[1].text == "after");
        CHECK(m.has_flag("bad-base64"));  // the "--" inside
    }
    SUBCASE("an inner boundary that extends the outer one") {
        std::string raw = "Content-Type: multipart/mixed; boundary=\"=_a\"\n\n--=_a\nContent-Type: multipart/alternative; boundary=\"=_a_1\"\n\n"
                          "--=_a_1\n\none\n--=_a_1\n\ntwo\n--=_a_1--\n--=_a\n\nthree\n--=_a--\n";
        ParsedMessage m = parse_message(raw);
        REQUIRE(m.parts.size() == 3);
        CHECK(m.parts[2].text == "three");
        CHECK(m.flags.empty());
    }
    SUBCASE("transport padding and text after a boundary") {
        ParsedMessage m = parse_message("Content-Type: multipart/mixed; boundary=b\n\n--b \t\n\none\n--bb\n--b--  \n");
        REQUIRE(m.parts.size() == 1);
        CHECK(m.parts[0].text == "one\n--bb");
    }
    SUBCASE("no final boundary") {
        ParsedMessage m = parse_message("Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n");
        REQUIRE(m.parts.size() == 2);
        CHECK(m.parts[1].text == "two\n");
        CHECK(m.has_flag("unterminated-multipart"));
    }
    SUBCASE("a declared boundary that never comes") {
        ParsedMessage m = parse_message("Content-Type: multipart/mixed; boundary=b\n\nonly text\n");
        REQUIRE(m.parts.size() == 1);
        CHECK(m.parts[0].content_type == "text/plain");
        CHECK(m.text == "only text\n");
        CHECK(m.has_flag("boundary-not-found"));
    }
    SUBCASE("no boundary parameter: guessed from the body") {
        ParsedMessage m = parse_message("Content-Type: multipart/mixed\n\npreamble\n--x\n\none\n--x\nContent-Type: application/zip\n\nPK\n--x--\n");
        REQUIRE(m.parts.size() == 2);
        CHECK(m.parts[1].content_type == "application/zip");
        CHECK(m.has_flag("missing-boundary"));
        m = parse_message("Content-Type: multipart/mixed\n\nno boundary line at all\n");
        REQUIRE(m.parts.size() == 1);
        CHECK(m.text == "no boundary line at all\n");
    }
    SUBCASE("empty parts and parts without headers") {
        ParsedMessage m = parse_message("Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\n--b\nContent-Type: text/html\n--b--\n");
        REQUIRE(m.parts.size() == 3);
        CHECK(m.parts[0].decoded_size == 0);
        CHECK(m.parts[1].decoded_size == 0);
        CHECK(m.parts[2].content_type == "text/html");
        CHECK(m.parts[2].decoded_size == 0);
    }
}

TEST_CASE("header blocks: no colon, no blank line, 8-bit, caps") {
    SUBCASE("a stray line between headers is skipped") {
        ParsedMessage m = parse_message("From: a\nthis is no header\nSubject: s\n\nbody");
        CHECK(m.headers.size() == 2);
        CHECK(m.subject == "s");
        CHECK(m.text == "body");
        CHECK(m.has_flag("header-without-colon"));
    }
    SUBCASE("a missing blank line: the body starts at the first line that is no header") {
        ParsedMessage m = parse_message("From: a\nSubject: s\nHello there, no blank line.\nSecond line: looks like a header\n");
        CHECK(m.headers.size() == 2);
        CHECK(m.text == "Hello there, no blank line.\nSecond line: looks like a header\n");
        CHECK(m.has_flag("missing-blank-line"));
    }
    SUBCASE("an mbox From_ line") {
        ParsedMessage m = parse_message("From someone@example.com Tue Jun 11 10:00:00 2024\nSubject: s\n\nbody");
        CHECK(m.subject == "s");
    }
    SUBCASE("no headers at all") {
        ParsedMessage m = parse_message("\nbody only");
        CHECK(m.headers.empty());
        CHECK(m.text == "body only");
        CHECK(m.flags.empty());
        CHECK(parse_message("").parts.size() == 1);
        CHECK(parse_message("").flags.empty());
    }
    SUBCASE("8-bit header values: UTF-8 when valid, else Windows-1252; raw kept as is") {
        ParsedMessage m = parse_message("Subject: Gr\xC3\xBC\xC3\x9F" "e\nFrom: J\xF6rg <j@example.de>\n\n");
        CHECK(m.subject == "Gr\xC3\xBC\xC3\x9F" "e");
        CHECK(m.headers[1].value == "J\xC3\xB6rg <j@example.de>");
        CHECK(m.headers[1].raw == "J\xF6rg <j@example.de>");
        CHECK(m.has_flag("8bit-header"));
    }
    SUBCASE("encoded words in header values, raw kept") {
        ParsedMessage m = parse_message("Subject: =?utf-8?q?caf=C3=A9?=\n =?utf-8?b?4g==?= =?utf-8?b?gqw=?=\n"
                                        "X-Broken: =?utf-8?q?never_closed\nX-Lang: =?us-ascii*en?q?with_language?=\n\n");
        CHECK(m.subject == "caf\xC3\xA9\xE2\x82\xAC");
        CHECK(m.headers[0].raw == "=?utf-8?q?caf=C3=A9?= =?utf-8?b?4g==?= =?utf-8?b?gqw=?=");
        CHECK(m.headers[1].value == "=?utf-8?q?never_closed");
        CHECK(m.headers[2].value == "with language");
        CHECK(m.has_flag("bad-encoded-word"));
    }
    SUBCASE("whitespace before the colon, folded names") {
        ParsedMessage m = parse_message("Subject  : spaced\nX-A:\n folded\n\tvalue\n\n");
        CHECK(m.subject == "spaced");
        CHECK(m.headers[1].raw == " folded\tvalue");
    }
    SUBCASE("caps: header count and bytes") {
        std::string raw;
        for (int i = 0; i < 50; ++i) raw += "X-H" + std::to_string(i) + ": v\n";
        raw += "Subject: last\n\nbody";
        ParseLimits l;
        l.max_headers = 10;
        ParsedMessage m = parse_message(raw, l);
        CHECK(m.headers.size() == 10);
        CHECK(m.has_flag("too-many-headers"));
        CHECK(m.text == "body");
        l = {};
        l.max_header_bytes = 100;
        m = parse_message(raw, l);
        CHECK(m.headers.size() < 15);
        CHECK(m.has_flag("header-too-long"));
        CHECK(m.text == "body");
    }
    SUBCASE("a huge single header line") {
        std::string raw = "Subject: " + std::string(3 << 20, 'x') + "\nFrom: a\n\nbody";
        ParsedMessage m = parse_message(raw);
        CHECK(m.has_flag("header-too-long"));
        CHECK(m.headers.empty());
        CHECK(m.text == "body");
    }
}

TEST_CASE("bodies: encodings, charsets, caps, huge lines") {
    SUBCASE("quoted-printable and base64 text to UTF-8") {
        ParsedMessage m = parse_message(multipart({
            "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nK=F6ln=\n, sch=F6n",
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nwqHDqXTDqSE=",
        }));
        CHECK(m.parts[0].text == "K\xC3\xB6ln, sch\xC3\xB6n");
        CHECK(m.parts[0].decoded_size == 11);
        CHECK(m.parts[1].text == "\xC2\xA1\xC3\xA9t\xC3\xA9!");
        CHECK(m.flags.empty());
    }
    SUBCASE("unknown charset and invalid UTF-8") {
        ParsedMessage m = parse_message(multipart({"Content-Type: text/plain; charset=x-martian\n\ncaf\xE9",
                                                   "Content-Type: text/plain; charset=utf-8\n\nbad\xFF" "byte"}));
        CHECK(m.parts[0].text == "caf\xC3\xA9");
        CHECK(m.parts[0].charset == "x-martian");
        CHECK(m.parts[1].text == "bad\xEF\xBF\xBD" "byte");
        CHECK(m.has_flag("unknown-charset"));
        CHECK(m.has_flag("bad-charset-data"));
    }
    SUBCASE("bad content type, unknown transfer encoding, encoded multipart") {
        ParsedMessage m = parse_message("Content-Type: garbage\nContent-Transfer-Encoding: x-uue\n\ntext");
        CHECK(m.parts[0].content_type == "text/plain");
        CHECK(m.text == "text");
        CHECK(m.has_flag("bad-content-type"));
        CHECK(m.has_flag("unknown-transfer-encoding"));
        m = parse_message("Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64\n\n--b\n\nx\n--b--\n");
        CHECK(m.text == "x");
        CHECK(m.has_flag("encoded-multipart"));
    }
    SUBCASE("the text cap cuts on a character boundary") {
        ParseLimits l;
        l.max_text_bytes = 10;
        ParsedMessage m = parse_message("Content-Type: text/plain; charset=utf-8\n\n\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9", l);
        CHECK(m.text == "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9");
        CHECK(m.parts[0].decoded_size == 12);
        CHECK(m.has_flag("text-truncated"));
        l.max_text_bytes = 5;
        m = parse_message(multipart({"\n\naaaa", "\n\nbbbb", "Content-Type: text/html\n\n<b>cccc</b>"}), l);
        CHECK(m.text.size() <= 5);
        CHECK(m.html.size() <= 5);
        CHECK(m.has_flag("text-truncated"));
    }
    SUBCASE("a huge single line, as text and as an attachment") {
        std::string line(12 << 20, 'a');
        ParsedMessage m = parse_message("Subject: big\n\n" + line);
        CHECK(m.parts[0].decoded_size == line.size());
        CHECK(m.text.size() == ParseLimits{}.max_text_bytes);
        CHECK(m.has_flag("text-truncated"));
        std::string b64(12 << 20, 'Q');
        m = parse_message(multipart({"Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n" + b64}));
        CHECK(m.parts[0].decoded_size == b64.size() / 4 * 3);
        CHECK(m.flags.empty());
    }
    SUBCASE("NUL bytes and binary") {
        std::string raw = "Subject: a\0b\n\nx\0y"s;
        ParsedMessage m = parse_message(raw);
        CHECK(m.text == "x\0y"s);
        CHECK(m.subject == "a\0b"s);
    }
}

TEST_CASE("never a crash: arbitrary bytes") {
    std::uint32_t x = 12345;
    for (int i = 0; i < 300; ++i) {
        std::string raw;
        std::size_t n = (x % 2000);
        for (std::size_t k = 0; k < n; ++k) {
            x = x * 1103515245u + 12345u;
            static const char alphabet[] = "-\n\r :;=?\"'*%abB0Q<>&#/\xC3\xFF\t";
            raw.push_back(alphabet[(x >> 16) % (sizeof alphabet - 1)]);
        }
        ParsedMessage m = parse_message("Content-Type: multipart/mixed; boundary=\"-\"\n\n" + raw);
        CHECK(pmx::mail::detail::is_valid_utf8(m.text));
    }
}
