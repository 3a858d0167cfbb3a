// Transfer encodings (base64, quoted-printable) and RFC 2047 encoded words. Internal to lib/mail
// (the public entries are in mime.hpp). The decoders count every decoded byte but keep at most
// `keep` of them, so an attachment's decoded size costs no copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "mail/flags.hpp"

namespace pmx::mail::detail {

struct DecodeStatus {
    std::uint64_t size = 0;  // decoded bytes, kept or not
    bool malformed = false;
};

// Appends at most `keep` decoded bytes to *out; out == nullptr only counts.
DecodeStatus base64_decode(std::string_view in, std::string* out, std::size_t keep);
DecodeStatus qp_decode(std::string_view in, std::string* out, std::size_t keep, bool header_variant);

// decode_rfc2047() appending to `out`, reporting BadEncodedWord, UnknownCharset, BadCharsetData.
void decode_rfc2047_into(std::string& out, std::string_view value, FlagSet& flags);

}  // namespace pmx::mail::detail
