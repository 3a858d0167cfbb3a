// The few cryptographic primitives pmx needs (OpenSSL's libcrypto underneath): HMAC-SHA256 for
// signed tokens and the re-injection stamp, SHA-256, random bytes, base64url without padding.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::secret {

using Digest = std::array<unsigned char, 32>;

Digest hmac_sha256(std::string_view key, std::string_view data);
Digest sha256(std::string_view data);

// n bytes from the kernel's CSPRNG (getrandom).
Result<std::string> random_bytes(std::size_t n);

// RFC 4648 §5 alphabet, no '=' padding: safe in URLs, header values and file names.
std::string base64url(std::string_view bytes);
std::string base64url(const Digest& d);
std::optional<std::string> base64url_decode(std::string_view text);  // nullopt: not base64url

std::string hex(std::string_view bytes);

// Compares in time that depends only on the lengths (for MACs).
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pmx::secret
