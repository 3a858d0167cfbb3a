// Header blocks (unfolding, caps, 8-bit, RFC 2047) and structured field values with parameters
// (Content-Type, Content-Disposition; RFC 2231 continuations and charset'lang'value). Internal to lib/mail.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mail/flags.hpp"
#include "mail/message.hpp"

namespace pmx::mail::detail {

struct HeaderBlock {
    std::vector<Header> headers;
    std::size_t body_start = 0;  // offset in buf of the first body byte
};

// Reads the header block starting at buf[pos] (lines end with `eol`, see lines.hpp). It ends at
// a blank line (consumed), at a delimiter line of `boundaries` (not consumed: the body is empty),
// at a line that is no header while the next one is none either (not consumed: MissingBlankLine),
// or at the end of buf. A lone non-header line between headers is skipped (HeaderWithoutColon).
HeaderBlock parse_header_block(std::string_view buf, std::size_t pos, char eol,
                               std::span<const std::string_view> boundaries, const ParseLimits& limits,
                               FlagSet& flags);

struct FieldValue {
    std::string value;  // "type/subtype" or the disposition: lowercased, comments and whitespace removed
    std::vector<std::pair<std::string, std::string>> params;  // lowercased names, values decoded to UTF-8

    const std::string* param(std::string_view name) const;  // nullptr when absent
};

// `type/subtype; name=value; name*0*=utf-8''%E2%82%AC; ...`: quoted strings, comments, RFC 2231
// sections joined and decoded (their form wins over a plain parameter of the same name), RFC 2047
// encoded words and raw 8-bit bytes in plain values decoded too (not standard, but common).
// The boundary parameter is kept byte for byte (no decoding).
FieldValue parse_field(std::string_view raw, FlagSet& flags);

}  // namespace pmx::mail::detail
