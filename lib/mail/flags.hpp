// The parser's malformation and cap flags: a bit set while parsing, names in ParsedMessage::flags.
// Internal to lib/mail. The order here is the order in ParsedMessage::flags.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pmx::mail::detail {

enum class Flag : std::uint8_t {
    MimeDepthExceeded,        // a multipart or message/rfc822 below ParseLimits::max_depth was not opened
    TooManyParts,             // leaf parts after ParseLimits::max_parts were not listed
    TooManyHeaders,           // headers after ParseLimits::max_headers (per block) were not kept
    HeaderTooLong,            // a header block went past ParseLimits::max_header_bytes; the rest was not kept
    TextTruncated,            // decoded text or HTML was cut at ParseLimits::max_text_bytes
    MissingBoundary,          // multipart without a boundary parameter
    BoundaryNotFound,         // multipart whose boundary never starts a line
    UnterminatedMultipart,    // multipart without its close delimiter
    MissingBlankLine,         // a header block ended by a line that is not a header, not by a blank line
    HeaderWithoutColon,       // a line inside a header block that is not a header, skipped
    EightBitHeader,           // raw 8-bit bytes in a header (read as UTF-8 when valid, else Windows-1252)
    BadEncodedWord,           // an RFC 2047 encoded word that could not be decoded cleanly
    BadParameter,             // a Content-Type/-Disposition parameter that is malformed (quotes, RFC 2231 sections)
    BadContentType,           // a Content-Type without type/subtype: read as text/plain
    BadBase64,                // characters outside the alphabet, data after padding, missing padding
    BadQuotedPrintable,       // "=" not followed by two hex digits or a line end
    UnknownTransferEncoding,  // a Content-Transfer-Encoding other than 7bit/8bit/binary/base64/quoted-printable
    EncodedMultipart,         // a multipart with a transfer encoding (ignored, as MUAs do)
    EncodedMessage,           // a message/rfc822 with base64 or quoted-printable (decoded, then parsed)
    UnknownCharset,           // a charset iconv does not know: read as UTF-8 when valid, else Windows-1252
    BadCharsetData,           // bytes invalid in their charset, replaced with U+FFFD
    CrLineEnds,               // the message ends its lines with CR alone
    ParseError,               // the parser hit an internal limit (e.g. out of memory); the result is partial
    Count_
};

inline const char* flag_name(Flag f) {
    static const char* const names[] = {
        "mime-depth-exceeded", "too-many-parts", "too-many-headers", "header-too-long", "text-truncated",
        "missing-boundary", "boundary-not-found", "unterminated-multipart", "missing-blank-line",
        "header-without-colon", "8bit-header", "bad-encoded-word", "bad-parameter", "bad-content-type",
        "bad-base64", "bad-quoted-printable", "unknown-transfer-encoding", "encoded-multipart",
        "encoded-message", "unknown-charset", "bad-charset-data", "cr-line-ends", "parse-error",
    };
    static_assert(sizeof(names) / sizeof(names[0]) == static_cast<std::size_t>(Flag::Count_));
    return names[static_cast<std::size_t>(f)];
}

class FlagSet {
public:
    void set(Flag f) { bits_ |= bit(f); }
    bool has(Flag f) const { return (bits_ & bit(f)) != 0; }
    void merge(const FlagSet& o) { bits_ |= o.bits_; }
    bool empty() const { return bits_ == 0; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (std::size_t i = 0; i < static_cast<std::size_t>(Flag::Count_); ++i)
            if (bits_ & (std::uint32_t{1} << i)) out.emplace_back(flag_name(static_cast<Flag>(i)));
        return out;
    }

private:
    static std::uint32_t bit(Flag f) { return std::uint32_t{1} << static_cast<unsigned>(f); }
    std::uint32_t bits_ = 0;
};

}  // namespace pmx::mail::detail
