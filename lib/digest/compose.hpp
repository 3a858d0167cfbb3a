// Writing mail text safely: what the digest builder needs to put data it does not control
// (subjects and senders of quarantined mail) into a message, and a message together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/text.hpp"

namespace pmx::digest {

// One line of display text: invalid UTF-8 becomes U+FFFD, control characters (C0, DEL, C1:
// CR and LF too) become spaces, bidirectional overrides and isolates (which can make a line
// read differently than it is) are dropped, and the result is cut at max_chars code points
// with "…" appended.
std::string display_line(std::string_view text, std::size_t max_chars);

// html_escape(): lib/util/text.hpp.

// A header value: as is when printable ASCII, else RFC 2047 "=?UTF-8?B?...?=" words of at most
// 75 characters (never splitting a UTF-8 sequence), separated by folding "\r\n ".
std::string encode_header_text(std::string_view utf8);

// Quoted-printable (RFC 2045 6.7) with CRLF line ends: lines of at most 76 characters, "="
// and non-ASCII as =XX, trailing blanks encoded; input LF or CRLF line ends are hard breaks.
std::string quoted_printable(std::string_view text);

// "Wed, 25 Nov 2026 12:00:00 +0000" (RFC 5322 date-time, UTC).
std::string rfc5322_date(std::int64_t time_us);

// True when the text can stand as an address in a header line: printable ASCII without
// blanks, "<>", quotes or commas, one "@" with something either side, at most 254 bytes.
bool header_safe_address(std::string_view address);

}  // namespace pmx::digest
