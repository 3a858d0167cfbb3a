// The MIME parser: a raw message as it arrives through the milter (headers, blank line, body)
// into a ParsedMessage (message.hpp), plus the decoders it is made of.
//
// Nothing here throws or crashes on hostile input: malformed structure is read the way mail
// clients read it and recorded in ParsedMessage::flags; every cap in ParseLimits cuts or stops
// descending and sets a flag instead of failing. One pass over the message; text parts are
// decoded to UTF-8 (capped), attachments only have their decoded size counted and their raw byte
// range recorded (Part::body_offset/body_length).
#pragma once

#include <string>
#include <string_view>

#include "mail/message.hpp"

namespace pmx::mail {

// Never throws, never crashes; CRLF, LF or CR-only line ends.
ParsedMessage parse_message(std::string_view raw, const ParseLimits& limits = {});

// RFC 2047 encoded words ("=?charset?B|Q?text?=") to UTF-8. Whitespace between adjacent encoded
// words is dropped and their bytes joined before charset conversion (a character may span two
// words). Text outside encoded words with 8-bit bytes is read as UTF-8 when valid, else as
// Windows-1252. Broken encoded words are left as written. CR, LF and NUL become spaces.
std::string decode_rfc2047(std::string_view header_value);

// Base64; whitespace is skipped; other characters outside the alphabet are skipped and make it
// malformed, as do a missing or misplaced padding.
std::string decode_base64(std::string_view in, bool* malformed = nullptr);

// Quoted-printable (RFC 2045 6.7): soft line breaks, "=XX" (either case), trailing whitespace on
// a line dropped; a stray "=" is kept as is. header_variant: RFC 2047 "Q" ("_" is a space).
std::string decode_quoted_printable(std::string_view in, bool header_variant = false);

// Bytes in `charset` to UTF-8 through iconv (UTF-8, US-ASCII and ISO-8859-1/Windows-1252 are
// done without it); invalid sequences become U+FFFD. An empty, US-ASCII or unknown charset
// reads the bytes as UTF-8 when valid, else as Windows-1252; *unknown tells the latter case.
std::string to_utf8(std::string_view bytes, std::string_view charset, bool* unknown = nullptr);

// Visible text of an HTML document for rules: drops script, style, comments and markup; block
// tags become line breaks, cells spaces, inline tags nothing ("V<b></b>iagra" is "Viagra");
// decodes character references (common names and numeric); drops zero-width characters and soft
// hyphens; collapses whitespace (runs of spaces to one, at most one empty line in a row).
std::string html_to_text(std::string_view html);

}  // namespace pmx::mail
