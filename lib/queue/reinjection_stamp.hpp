// The stamp pmx-queued puts on every message it delivers, so that the milter lets released
// mail, digests and notifications through unfiltered instead of quarantining them again.
//
//     X-PMX-Reinjected: <token from lib/secret/token.hpp, purpose "reinjection">
//
// The token's payload binds it to this delivery: the envelope recipients (lowercased, sorted)
// and the Message-ID (pmx-queued adds one to a message that has none). A stamp copied onto
// other mail, or onto the same mail for other recipients, fails; so does one signed by a key no
// longer in the keyring (rotation) or older than its validity. The milter removes the header
// whatever the outcome; only a valid one skips the filters.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "secret/keyring.hpp"

namespace pmx::queue {

inline constexpr std::string_view reinjection_header = "X-PMX-Reinjected";

// The header's value (without the name).
std::string make_reinjection_stamp(const secret::Keyring& keyring, std::span<const std::string> recipients,
                                   std::string_view message_id, std::int64_t now_us, std::int64_t valid_us);

enum class StampCheck { Valid, Expired, Forged, Malformed };
std::string_view to_string(StampCheck c);  // "valid", "expired", "forged", "malformed"

// recipients: the envelope recipients the milter saw; message_id: the Message-ID header value.
StampCheck check_reinjection_stamp(const secret::Keyring& keyring, std::string_view value,
                                   std::span<const std::string> recipients, std::string_view message_id,
                                   std::int64_t now_us);

}  // namespace pmx::queue
