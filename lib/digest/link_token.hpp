// The token of a digest's release link and reply: which quarantined message to release, and
// for whom. A secret::sign_token token (lib/secret/token.hpp) with purpose "digest-release"
// and the payload
//
//     r1 <quarantine id> <recipient, lowercased>
//
// (space separated; "r1" is the format's version). Whoever holds the token may release that
// message to that recipient, nothing else: the payload names both, and the MAC covers them.
// Tokens look like <8 hex>.<digits>.<base64url>.<base64url>, which find_link_tokens() relies on.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "secret/keyring.hpp"
#include "util/result.hpp"

namespace pmx::digest {

inline constexpr std::string_view link_token_purpose = "digest-release";

struct LinkClaim {
    std::int64_t quarantine_id = 0;
    std::string recipient{};  // lowercased
    std::int64_t expires_us = 0;  // filled in by check_link_token
};

// precondition: !keyring.empty().
std::string make_link_token(const secret::Keyring& keyring, std::int64_t quarantine_id, std::string_view recipient,
                            std::int64_t expires_us);

// The claim when the token is genuine, unexpired and in this format. Errors say which check
// failed ("expired", "not signed by this site", "malformed").
Result<LinkClaim> check_link_token(const secret::Keyring& keyring, std::string_view token, std::int64_t now_us);

// Every distinct token-shaped string in text (URLs, quoted lines, header values), in order of
// first appearance, at most max of them. Shape only: check each with check_link_token.
std::vector<std::string> find_link_tokens(std::string_view text, std::size_t max);

}  // namespace pmx::digest
