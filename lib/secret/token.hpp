// Signed, expiring tokens: digest release links, replies to digests, one-time login links.
//
//     <key id>.<expires, unix seconds>.<payload, base64url>.<MAC, base64url>
//
// MAC = HMAC-SHA256(derive(key, purpose), key id "." expires "." payload). The payload is
// readable by whoever holds the token (it is signed, not encrypted): put ids in it, never
// secrets. The token is URL-safe and fits in a header line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "secret/keyring.hpp"
#include "util/result.hpp"

namespace pmx::secret {

// Signs with the keyring's signing key. precondition: !keyring.empty().
std::string sign_token(const Keyring& keyring, std::string_view purpose, std::string_view payload,
                       std::int64_t expires_us);

struct VerifiedToken {
    std::string payload;
    std::int64_t expires_us = 0;
};

enum class TokenProblem { None, Malformed, NotOurs, Expired };

// The payload when the token is well formed, signed by a key in the keyring for this purpose
// and not expired at now_us. Errors say which of those failed (also in *problem when given),
// never anything about the key.
Result<VerifiedToken> verify_token(const Keyring& keyring, std::string_view purpose, std::string_view token,
                                   std::int64_t now_us, TokenProblem* problem = nullptr);

}  // namespace pmx::secret
