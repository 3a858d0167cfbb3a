#include "queue/reinjection_stamp.hpp"

#include <algorithm>
#include <vector>

#include "secret/crypto.hpp"
#include "secret/token.hpp"
#include "util/text.hpp"

namespace pmx::queue {

namespace {

constexpr std::string_view purpose = "reinjection";

// What the stamp is bound to: a digest of the sorted, lowercased recipients and the Message-ID,
// so the header stays short whatever the number of recipients.
std::string binding(std::span<const std::string> recipients, std::string_view message_id) {
    std::vector<std::string> sorted;
    for (const auto& r : recipients) sorted.push_back(ascii_lower(trim(r)));
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string text(trim(message_id));
    for (const auto& r : sorted) text += "\n" + r;
    return secret::base64url(secret::sha256(text));
}

}  // namespace

std::string make_reinjection_stamp(const secret::Keyring& keyring, std::span<const std::string> recipients,
                                   std::string_view message_id, std::int64_t now_us, std::int64_t valid_us) {
    return secret::sign_token(keyring, purpose, binding(recipients, message_id), now_us + valid_us);
}

std::string_view to_string(StampCheck c) {
    switch (c) {
        case StampCheck::Valid: return "valid";
        case StampCheck::Expired: return "expired";
        case StampCheck::Forged: return "forged";
        case StampCheck::Malformed: return "malformed";
    }
    return "malformed";
}

StampCheck check_reinjection_stamp(const secret::Keyring& keyring, std::string_view value,
                                   std::span<const std::string> recipients, std::string_view message_id,
                                   std::int64_t now_us) {
    auto token = trim(value);
    secret::TokenProblem problem{};
    auto verified = secret::verify_token(keyring, purpose, token, now_us, &problem);
    if (!verified) {
        if (problem == secret::TokenProblem::Expired) return StampCheck::Expired;
        if (problem == secret::TokenProblem::Malformed) return StampCheck::Malformed;
        return StampCheck::Forged;
    }
    // Signed by us, but for another message or other recipients: a copied stamp.
    if (!secret::constant_time_equal(verified->payload, binding(recipients, message_id))) return StampCheck::Forged;
    return StampCheck::Valid;
}

}  // namespace pmx::queue
