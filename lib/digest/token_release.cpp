#include "digest/token_release.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/quarantine_store.hpp"
#include "util/text.hpp"

namespace pmx::digest {

std::string_view to_string(TokenOutcome o) {
    switch (o) {
    case TokenOutcome::Released: return "released";
    case TokenOutcome::AlreadyReleased: return "already-released";
    case TokenOutcome::Refused: return "refused";
    case TokenOutcome::Failed: return "failed";
    }
    return "?";
}

TokenRelease release_by_token(store::Database& db, const quarantine::Places& places, const secret::Keyring& keyring,
                              std::string_view token, std::string_view actor_kind,
                              std::optional<std::string_view> required_recipient, std::int64_t now_us) {
    TokenRelease out;
    auto claim = check_link_token(keyring, token, now_us);
    if (!claim) {
        out.detail = claim.error().message;
        return out;
    }
    out.claim = *claim;
    if (required_recipient && ascii_lower(*required_recipient) != claim->recipient) {
        out.detail = fmt::format("the code is for {}, not for {}", claim->recipient, ascii_lower(*required_recipient));
        return out;
    }
    auto found = store::find_quarantined(db, places.quarantine_dir, claim->quarantine_id);
    if (!found) {
        out.outcome = TokenOutcome::Failed;
        out.detail = found.error().message;
        return out;
    }
    if (!found->has_value()) {
        out.detail = fmt::format("message {} is no longer in the quarantine", claim->quarantine_id);
        return out;
    }
    // The recipient as the quarantine stored it (the token has it lowercased).
    std::string held_as;
    for (const auto& r : (*found)->meta.recipients)
        if (ascii_lower(r) == claim->recipient) held_as = r;
    if (held_as.empty()) {
        out.detail = fmt::format("message {} was not held for {}", claim->quarantine_id, claim->recipient);
        return out;
    }
    quarantine::ReleaseRequest req;
    req.id = claim->quarantine_id;
    req.recipients = {held_as};
    req.actor = fmt::format("{}:{}", actor_kind, claim->recipient);
    auto rel = quarantine::release(db, places, req);
    if (!rel) {
        out.outcome = TokenOutcome::Failed;
        out.detail = rel.error().message;
        return out;
    }
    if (!rel->released.empty()) {
        out.outcome = TokenOutcome::Released;
        out.queue_entry = rel->queue_entry;
        out.detail = fmt::format("message {} released to {}", claim->quarantine_id, claim->recipient);
    } else {
        out.outcome = TokenOutcome::AlreadyReleased;
        out.detail = fmt::format("message {} was already released to {}", claim->quarantine_id, claim->recipient);
    }
    return out;
}

}  // namespace pmx::digest
