// JSON string literals: what every --json output and the report exports write.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace pmx {

// The text in quotes with JSON's escapes; other control characters (and DEL) as \u00XX.
// Bytes >= 0x80 pass through: the caller's text is UTF-8.
inline std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
                else out += static_cast<char>(c);
        }
    }
    return out + '"';
}

}  // namespace pmx
