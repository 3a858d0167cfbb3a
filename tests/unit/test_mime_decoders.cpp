// The MIME parser's decoders on their own: base64, quoted-printable, RFC 2047, charsets, HTML.
#include <doctest/doctest.h>

#include <string>

#include "mail/charset.hpp"
#include "mail/encoding.hpp"
#include "mail/mime.hpp"

using namespace pmx::mail;
using namespace std::string_literals;

TEST_CASE("base64: RFC 4648 vectors, line breaks, malformed input") {
    bool bad = true;
    CHECK(decode_base64("", &bad).empty());
    CHECK_FALSE(bad);
    CHECK(decode_base64("Zg==", &bad) == "f");
    CHECK_FALSE(bad);
    CHECK(decode_base64("Zm8=") == "fo");
    CHECK(decode_base64("Zm9v") == "foo");
    CHECK(decode_base64("Zm9vYg==") == "foob");
    CHECK(decode_base64("Zm9vYmE=") == "fooba");
    CHECK(decode_base64("Zm9v\r\nYmFy\r\n", &bad) == "foobar");
    CHECK_FALSE(bad);
    CHECK(decode_base64(" Zm 9v\tYm\nFy ") == "foobar");
    CHECK(decode_base64("+/+/") == "\xFB\xFF\xBF");

    CHECK(decode_base64("Zm9vYg", &bad) == "foob");  // missing padding: decoded, flagged
    CHECK(bad);
    CHECK(decode_base64("Zm9v!Ym*Fy", &bad) == "foobar");  // outside the alphabet: skipped, flagged
    CHECK(bad);
    CHECK(decode_base64("Zg==Zm8=", &bad) == "ffo");  // data after padding (concatenated chunks)
    CHECK(bad);
    CHECK(decode_base64("Z", &bad).empty());  // six bits are no byte
    CHECK(bad);
    CHECK(decode_base64("====", &bad).empty());
    CHECK(bad);
    CHECK(decode_base64("-_-_", &bad).empty());  // base64url is not MIME base64
    CHECK(bad);
    std::string all;
    for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
    std::string b64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH"
                      "SElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJiouMjY6P"
                      "kJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq+wsbKztLW2t7i5uru8vb6/wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX"
                      "2Nna29zd3t/g4eLj5OXm5+jp6uvs7e7v8PHy8/T19vf4+fr7/P3+/w==";
    CHECK(decode_base64(b64, &bad) == all);
    CHECK_FALSE(bad);
}

TEST_CASE("counting a transfer encoding agrees with decoding it") {
    using namespace pmx::mail::detail;
    std::uint32_t x = 99;
    const char alphabet[] = "AZaz09+/==\r\n \t!-QUJD";
    for (int i = 0; i < 3000; ++i) {
        std::string in;
        std::size_t n = x % 300;
        for (std::size_t k = 0; k < n; ++k) {
            x = x * 1103515245u + 12345u;
            in.push_back(alphabet[(x >> 16) % (sizeof alphabet - 1)]);
        }
        std::string kept;
        auto full = base64_decode(in, &kept, SIZE_MAX);
        auto counted = base64_decode(in, nullptr, 0);
        std::string some;
        auto capped = base64_decode(in, &some, 5);
        bool same = full.size == kept.size() && counted.size == full.size && counted.malformed == full.malformed &&
                    capped.size == full.size && some == kept.substr(0, 5);
        auto qfull = qp_decode(in, &kept, SIZE_MAX, false);
        auto qcount = qp_decode(in, nullptr, 0, false);
        same = same && qfull.size == qcount.size && qfull.malformed == qcount.malformed;
        if (!same) CAPTURE(in);
        REQUIRE(same);
    }
}

TEST_CASE("quoted-printable: soft breaks, hex, trailing whitespace, stray equals") {
    CHECK(decode_quoted_printable("caf=C3=A9") == "caf\xC3\xA9");
    CHECK(decode_quoted_printable("caf=c3=a9") == "caf\xC3\xA9");  // lowercase hex is tolerated
    CHECK(decode_quoted_printable("soft=\r\nbreak") == "softbreak");
    CHECK(decode_quoted_printable("soft=\nbreak") == "softbreak");
    CHECK(decode_quoted_printable("soft=\rbreak") == "softbreak");
    CHECK(decode_quoted_printable("soft=  \r\nbreak") == "softbreak");  // whitespace after "=" added in transit
    CHECK(decode_quoted_printable("end=") == "end");
    CHECK(decode_quoted_printable("trailing   \r\nline\t\nlast  ") == "trailing\r\nline\nlast");
    CHECK(decode_quoted_printable("keep =20\r\n") == "keep  \r\n");
    CHECK(decode_quoted_printable("a = b =zz =4") == "a = b =zz =4");
    CHECK(decode_quoted_printable("under_score") == "under_score");
    CHECK(decode_quoted_printable("under_score=5F", true) == "under score_");
    CHECK(decode_quoted_printable("") == "");
}

TEST_CASE("RFC 2047 encoded words") {
    CHECK(decode_rfc2047("plain text") == "plain text");
    CHECK(decode_rfc2047("=?UTF-8?B?SsO8cmdlbg==?=") == "J\xC3\xBCrgen");
    CHECK(decode_rfc2047("=?iso-8859-1?q?J=FCrgen_M?=") == "J\xC3\xBCrgen M");
    CHECK(decode_rfc2047("Re: =?utf-8?q?caf=C3=A9?= ok") == "Re: caf\xC3\xA9 ok");
    SUBCASE("whitespace between adjacent encoded words goes, around text it stays") {
        CHECK(decode_rfc2047("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab");
        CHECK(decode_rfc2047("=?utf-8?q?a?=\r\n =?utf-8?q?b?=") == "ab");
        CHECK(decode_rfc2047("=?utf-8?q?a?= x =?utf-8?q?b?=") == "a x b");
        CHECK(decode_rfc2047("=?utf-8?q?a_?= =?utf-8?q?_b?=") == "a  b");
        CHECK(decode_rfc2047("=?utf-8?q?a?==?utf-8?q?b?=") == "ab");
    }
    SUBCASE("a character split over two words is joined before conversion") {
        CHECK(decode_rfc2047("=?utf-8?b?4g==?= =?utf-8?b?gqw=?=") == "\xE2\x82\xAC");
        CHECK(decode_rfc2047("=?utf-8?q?=E2=82?= =?utf-8?q?=AC?=") == "\xE2\x82\xAC");
        CHECK(decode_rfc2047("=?utf-8?q?=E2=82?= =?iso-8859-1?q?=E9?=") == "\xEF\xBF\xBD\xC3\xA9");
    }
    SUBCASE("charsets and languages") {
        CHECK(decode_rfc2047("=?koi8-r?b?9MXT1A==?=") == "\xD0\xA2\xD0\xB5\xD1\x81\xD1\x82");  // Тест
        CHECK(decode_rfc2047("=?us-ascii*en?q?with_language?=") == "with language");
        CHECK(decode_rfc2047("=?x-unknown-cs?q?caf=E9?=") == "caf\xC3\xA9");  // unknown: UTF-8 or Windows-1252
    }
    SUBCASE("broken words stay as written") {
        CHECK(decode_rfc2047("=?utf-8?x?abc?=") == "=?utf-8?x?abc?=");
        CHECK(decode_rfc2047("=?utf-8?q?never closed") == "=?utf-8?q?never closed");
        CHECK(decode_rfc2047("what =? is ?= this") == "what =? is ?= this");
        CHECK(decode_rfc2047("=??q?x?=") == "=??q?x?=");
        CHECK(decode_rfc2047("=?utf-8?b?!!!!?=") == "");  // decoded leniently: nothing left
        CHECK(decode_rfc2047("=?utf-8?b?4oKs") == "=?utf-8?b?4oKs");
    }
    SUBCASE("8-bit text outside encoded words: UTF-8 when valid, else Windows-1252") {
        CHECK(decode_rfc2047("Stra\xC3\x9F" "e") == "Stra\xC3\x9F" "e");
        CHECK(decode_rfc2047("J\xF6rg") == "J\xC3\xB6rg");
        CHECK(decode_rfc2047("\x93q\x94 =?utf-8?q?x?=") == "\xE2\x80\x9Cq\xE2\x80\x9D x");
    }
    SUBCASE("decoded control characters cannot break the header line") {
        CHECK(decode_rfc2047("=?utf-8?q?a=0D=0AX-Injected:_1=00?=") == "a  X-Injected: 1 ");
    }
    SUBCASE("many unterminated starts stay linear") {
        std::string v;
        for (int i = 0; i < 200000; ++i) v += "=?a?q?x ";
        bool same = decode_rfc2047(v) == v;
        CHECK(same);
    }
}

TEST_CASE("charsets to UTF-8") {
    bool unknown = true;
    CHECK(to_utf8("plain", "us-ascii", &unknown) == "plain");
    CHECK_FALSE(unknown);
    CHECK(to_utf8("caf\xC3\xA9", "UTF-8") == "caf\xC3\xA9");
    CHECK(to_utf8("caf\xC3\xA9", "utf8") == "caf\xC3\xA9");
    CHECK(to_utf8("caf\xE9", "ISO-8859-1") == "caf\xC3\xA9");
    CHECK(to_utf8("\x80 \x93x\x94 \x81", "iso-8859-1") == "\xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D \xC2\x81");
    CHECK(to_utf8("\xA4", "iso-8859-15") == "\xE2\x82\xAC");
    CHECK(to_utf8("\xF0\xD2\xC9\xD7\xC5\xD4", "koi8-r") == "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    CHECK(to_utf8("\"KOI8-R\"", "\"koi8-r\"") == "\"KOI8-R\"");
    CHECK(to_utf8("\x1B$B$3$s$K$A$O\x1B(B", "iso-2022-jp") ==
          "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF");
    CHECK(to_utf8("\x82\xB1", "shift_jis") == "\xE3\x81\x93");
    CHECK(to_utf8("\xD6\xD0", "gb2312") == "\xE4\xB8\xAD");
    CHECK(to_utf8("\xBE\xC8", "ks_c_5601-1987") == "\xEC\x95\x88");
    CHECK(to_utf8("h\0i\0"s, "utf-16le") == "hi");
    CHECK(to_utf8("+AOk-", "utf-7") == "\xC3\xA9");

    SUBCASE("invalid sequences become U+FFFD, one per maximal invalid subpart") {
        CHECK(to_utf8("a\xFF" "b", "utf-8") == "a\xEF\xBF\xBD" "b");
        CHECK(to_utf8("a\xE2\x82" "b", "utf-8") == "a\xEF\xBF\xBD" "b");
        CHECK(to_utf8("\xED\xA0\x80", "utf-8") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
        CHECK(to_utf8("\xC0\xAF", "utf-8") == "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
        CHECK(to_utf8("\xF4\x90\x80\x80", "utf-8") ==
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // above U+10FFFF
        CHECK(to_utf8("\xF0\x9F\x98", "utf-8") == "\xEF\xBF\xBD");  // cut short at the end
        CHECK(to_utf8("\xF0\x9F\x98\x80", "utf-8") == "\xF0\x9F\x98\x80");
        CHECK(to_utf8("a\x82\xB1\xFF", "shift_jis") == "a\xE3\x81\x93\xEF\xBF\xBD");  // through iconv
        CHECK(to_utf8("\xB0", "euc-jp") == "\xEF\xBF\xBD");                           // incomplete at the end
    }
    SUBCASE("empty, ASCII and unknown charsets: UTF-8 when valid, else Windows-1252") {
        CHECK(to_utf8("caf\xC3\xA9", "", &unknown) == "caf\xC3\xA9");
        CHECK_FALSE(unknown);
        CHECK(to_utf8("caf\xE9", "us-ascii", &unknown) == "caf\xC3\xA9");
        CHECK_FALSE(unknown);
        CHECK(to_utf8("caf\xE9", "x-no-such-charset", &unknown) == "caf\xC3\xA9");
        CHECK(unknown);
        CHECK(to_utf8("caf\xC3\xA9", "x-no-such-charset", &unknown) == "caf\xC3\xA9");
        CHECK(unknown);
        // Names that would mean something else to iconv_open() are not passed to it.
        CHECK(to_utf8("x\xE9", "utf-8//TRANSLIT", &unknown) == "x\xC3\xA9");
        CHECK(unknown);
        CHECK(to_utf8("x", "../../../tmp/evil", &unknown) == "x");
        CHECK(unknown);
        CHECK(to_utf8("x", std::string(100, 'a'), &unknown) == "x");
        CHECK(unknown);
    }
    SUBCASE("the converter cache survives many charsets in a row") {
        const char* names[] = {"koi8-r", "iso-8859-2", "iso-8859-5", "windows-1251", "cp866", "iso-8859-7",
                               "iso-8859-9", "windows-1250", "mac", "iso-8859-15", "koi8-u", "koi8-r"};
        for (int round = 0; round < 3; ++round)
            for (const char* n : names) CHECK(to_utf8("abc", n) == "abc");
        CHECK(to_utf8("\x1B$B$3\x1B(B", "iso-2022-jp") == "\xE3\x81\x93");
        CHECK(to_utf8("\x1B$B$3", "iso-2022-jp") == "\xE3\x81\x93");  // left in the JIS shift state...
        CHECK(to_utf8("$3", "iso-2022-jp") == "$3");                   // ...which the next use does not see
    }
}

TEST_CASE("HTML to text") {
    CHECK(html_to_text("") == "");
    CHECK(html_to_text("plain") == "plain");
    CHECK(html_to_text("<p>Hello <b>World</b></p>") == "Hello World");
    CHECK(html_to_text("V<span></span>i<b>a</b>gra") == "Viagra");
    CHECK(html_to_text("a<br>b<br/><br>c") == "a\nb\n\nc");
    CHECK(html_to_text("<p>one</p><p>two</p>\n\n\n<div>three</div>") == "one\n\ntwo\n\nthree");
    CHECK(html_to_text("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>") == "a b\nc");
    CHECK(html_to_text("  lots   of \t\r\n  space  ") == "lots of space");
    SUBCASE("script, style, comments and declarations go") {
        CHECK(html_to_text("a<script>if (x < y) document.write('<p>b</p>')</script>c") == "ac");
        CHECK(html_to_text("a<SCRIPT type=x>b</Script >c") == "ac");
        CHECK(html_to_text("a<style>p{}</style>b") == "ab");
        CHECK(html_to_text("a<script>never closed") == "a");
        CHECK(html_to_text("a<script/>b") == "a");  // browsers ignore the "/" there too
        CHECK(html_to_text("a<!-- <b>x</b> -->b") == "ab");
        CHECK(html_to_text("a<!-- never closed") == "a");
        CHECK(html_to_text("<!DOCTYPE html><?xml version=\"1.0\"?>a<![CDATA[x]]>b") == "ab");
    }
    SUBCASE("attributes may hold > inside quotes") {
        CHECK(html_to_text("<a title=\"x > y\" href='a>b'>link</a>") == "link");
        CHECK(html_to_text("<a title=it's>x</a> y") == "x y");
        CHECK(html_to_text("<img src=\"never closed>text") == "");
    }
    SUBCASE("character references") {
        CHECK(html_to_text("&amp; &lt; &gt; &quot; &apos; &nbsp;x") == "& < > \" ' x");
        CHECK(html_to_text("&eacute;&Eacute;&euro;&hellip;&copy;&yuml;&szlig;") ==
              "\xC3\xA9\xC3\x89\xE2\x82\xAC\xE2\x80\xA6\xC2\xA9\xC3\xBF\xC3\x9F");
        CHECK(html_to_text("&#65;&#x42;&#X43;&#68") == "ABCD");
        CHECK(html_to_text("&#0; &#xD800; &#x110000; &#99999999999;") ==
              "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD");
        CHECK(html_to_text("&#150;&#x80;") == "\xE2\x80\x93\xE2\x82\xAC");  // Windows-1252, as browsers do
        CHECK(html_to_text("&amp &lt3 AT&T &unknown; &eacute &;") == "& <3 AT&T &unknown; &eacute &;");
        CHECK(html_to_text("&#;&#x;") == "&#;&#x;");
    }
    SUBCASE("invisible characters go, no-break spaces are spaces") {
        CHECK(html_to_text("Vi&shy;ag&#8203;ra &zwnj;x") == "Viagra x");
        CHECK(html_to_text("Vi\xC2\xAD" "ag\xE2\x80\x8Bra\xEF\xBB\xBF") == "Viagra");
        CHECK(html_to_text("a\xC2\xA0\xC2\xA0" "b") == "a b");
        CHECK(html_to_text("caf\xC3\xA9 \xF0\x9F\x98\x80") == "caf\xC3\xA9 \xF0\x9F\x98\x80");
    }
    SUBCASE("text that only looks like markup") {
        CHECK(html_to_text("a < b and c<3 and 1<2") == "a < b and c<3 and 1<2");
        CHECK(html_to_text("trailing <") == "trailing <");
        CHECK(html_to_text("trailing &") == "trailing &");
        CHECK(html_to_text("<") == "<");
    }
}
