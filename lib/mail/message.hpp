// A parsed message: what the MIME parser (lib/mail/mime.hpp) gives the policy and the rules.
// Everything here is decoded to UTF-8; every size the sender controls was capped on the way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pmx::mail {

struct Header {
    std::string name;   // as written ("Subject")
    std::string raw;    // the raw value, unfolded (CRLF+WSP → WSP), no trailing CRLF
    std::string value;  // decoded: RFC 2047 encoded words to UTF-8
};

// The first header of that name (ASCII case-insensitive), nullptr when none.
const Header* find_header(const std::vector<Header>& headers, std::string_view name);

struct Part {
    std::string content_type;         // lowercased "type/subtype"; "text/plain" when absent
    std::string charset;              // lowercased; "" when none (a text/* leaf without one gets the default "us-ascii")
    std::string disposition;          // lowercased "attachment", "inline" or ""
    std::string filename;             // decoded (RFC 2231 / RFC 2047); from Content-Disposition filename or Content-Type name
    std::string transfer_encoding;    // lowercased "base64", "quoted-printable", "7bit", ...
    std::uint64_t decoded_size = 0;   // bytes after transfer decoding
    int depth = 0;                    // 0 for a single-part message's body; nesting level of multiparts
                                      // (a message/rfc822 is one level too: its inner message is at depth+1)
    bool is_attachment = false;       // disposition attachment, or a filename, or a non-text leaf
                                      // (also a multipart left opaque because the depth cap was reached)
    std::vector<Header> headers;      // this part's own headers (a single-part message: the message's headers)
    std::string text;                 // text/* leaves only: decoded to UTF-8 (HTML converted to text), capped

    // Where the still transfer-encoded body lies in the raw message given to parse_message(), so a
    // later step (antivirus) can decode an attachment without the parser keeping a copy:
    // raw.substr(body_offset, body_length) is the body after the part's blank line, up to (not
    // including) the line end before the next boundary. Decode it with transfer_encoding.
    // For a message/rfc822 part it is the whole inner message. body_in_raw is false (and both are 0)
    // for parts found inside a transfer-encoded message/rfc822, which only exist in a decoded copy.
    std::size_t body_offset = 0;
    std::size_t body_length = 0;
    bool body_in_raw = true;
};

struct ParsedMessage {
    std::vector<Header> headers;      // top-level headers in order
    std::vector<Part> parts;          // leaf parts in document order (multipart containers are not listed)
    std::string subject;              // decoded Subject, "" when none
    std::string text;                 // all text leaves joined (text/plain as is, text/html converted), UTF-8, capped
    std::string html;                 // raw HTML of text/html leaves joined (decoded to UTF-8), capped
    std::uint64_t size = 0;           // raw message size in bytes
    std::vector<std::string> flags;   // what was malformed or cut: "mime-depth-exceeded", "too-many-parts",
                                      // "bad-base64", "missing-boundary", "unterminated-multipart",
                                      // "header-too-long", "too-many-headers", "text-truncated", "unknown-charset", ...
                                      // (every name, in this order, with its meaning: lib/mail/flags.hpp)

    // First header with this name (case-insensitive), or nullptr.
    const Header* header(std::string_view name) const;
    // Every header with this name (case-insensitive).
    std::vector<const Header*> headers_named(std::string_view name) const;
    bool has_flag(std::string_view flag) const;
};

struct ParseLimits {
    int max_depth = 20;                         // multipart nesting
    std::size_t max_parts = 1000;               // leaf parts
    std::size_t max_headers = 1000;             // per header block
    std::size_t max_header_bytes = 1 << 20;     // per header block
    std::size_t max_text_bytes = 4 << 20;       // decoded text kept for rules (text and html each)
};

}  // namespace pmx::mail
