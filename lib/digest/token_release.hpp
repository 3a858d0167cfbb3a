// Releasing by a digest token: what `pmx quarantine release-link`, `pmx quarantine
// digest-reply` and (later) the end-user web interface's release link do.
//
// The token is checked (signature, expiry, format), then the message: still in the quarantine
// and held for the token's recipient. Only then quarantine::release() submits it to the
// queue for that one recipient, recorded with actor "<actor_kind>:<recipient>". Using a link
// twice sends nothing the second time (already released).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "digest/link_token.hpp"
#include "quarantine/release.hpp"
#include "secret/keyring.hpp"
#include "store/database.hpp"

namespace pmx::digest {

enum class TokenOutcome {
    Released,         // submitted to the queue now
    AlreadyReleased,  // released before: nothing sent
    Refused,          // bad, expired or foreign token; message gone; not the token's recipient
    Failed,           // database or spool trouble: worth trying again later
};
std::string_view to_string(TokenOutcome o);  // "released", "already-released", "refused", "failed"

struct TokenRelease {
    TokenOutcome outcome = TokenOutcome::Refused;
    std::string detail{};       // why, for people: "expired", "no longer in the quarantine", ...
    LinkClaim claim{};          // filled in once the token checked out
    std::string queue_entry{};  // when Released
};

// required_recipient: when set, the token's recipient must be this address (case-insensitive):
// a reply to a digest must come from the address the digest went to.
TokenRelease release_by_token(store::Database& db, const quarantine::Places& places, const secret::Keyring& keyring,
                              std::string_view token, std::string_view actor_kind,
                              std::optional<std::string_view> required_recipient, std::int64_t now_us);

}  // namespace pmx::digest
