// Charsets to UTF-8 and UTF-8 helpers. Internal to lib/mail (the public entry is to_utf8()).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace pmx::mail::detail {

void append_utf8(std::string& out, char32_t cp);           // code point as UTF-8 (invalid ones as U+FFFD)
char32_t cp1252_to_unicode(unsigned char b);                // Windows-1252 byte (0x81 and the like: C1 control)
bool has_8bit(std::string_view s);
std::size_t skip_ascii(std::string_view s, std::size_t from);  // index of the first byte >= 0x80, or s.size()
bool is_valid_utf8(std::string_view s);
bool append_utf8_sanitized(std::string& out, std::string_view s);  // false when something became U+FFFD
void append_cp1252(std::string& out, std::string_view s);
void append_guessed(std::string& out, std::string_view s);  // UTF-8 when valid, else Windows-1252
void utf8_truncate(std::string& s, std::size_t max);        // cut to at most max bytes on a character boundary
std::string normalize_charset(std::string_view charset);    // trimmed, unquoted, lowercased

struct CharsetStatus {
    bool unknown = false;   // charset not known: read as UTF-8 when valid, else Windows-1252
    bool replaced = false;  // invalid sequences became U+FFFD
};
// Appends `bytes` in `charset` converted to UTF-8.
CharsetStatus append_as_utf8(std::string& out, std::string_view bytes, std::string_view charset);

}  // namespace pmx::mail::detail
