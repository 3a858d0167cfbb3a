#include "quarantine/release.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "quarantine/address.hpp"
#include "queue/submit.hpp"
#include "store/audit.hpp"
#include "store/lists_store.hpp"
#include "store/quarantine_state.hpp"
#include "store/quarantine_store.hpp"
#include "util/text.hpp"

namespace pmx::quarantine {

namespace {

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out;
}

Error failed(std::int64_t id, std::string_view why) {
    return Error{fmt::format("Failed to release quarantined message {}: {}", id, why)};
}

}  // namespace

Result<ReleaseResult> release(store::Database& db, const Places& places, const ReleaseRequest& rq) {
    if (rq.actor.empty()) return failed(rq.id, "no actor given for the audit log");
    auto found = store::find_quarantined(db, places.quarantine_dir, rq.id);
    if (!found) return found.error();
    if (!found->has_value()) return Error{fmt::format("No quarantined message with id {}", rq.id)};
    const store::QuarantinedMessage& m = **found;

    std::optional<std::string> to;
    if (rq.to) {
        auto a = delivery_address(*rq.to);
        if (!a) return failed(m.id, a.error().message);
        to = std::move(*a);
    }

    // Which recipients: those asked for (as they were held, whatever case they are typed in),
    // or every one still held.
    ReleaseResult result;
    std::vector<std::string> targets;
    auto take = [&](const store::RecipientState& s) {
        auto& into = s.released_us ? result.already_released : targets;
        if (std::find(into.begin(), into.end(), s.recipient) == into.end()) into.push_back(s.recipient);
    };
    if (rq.recipients.empty()) {
        for (const auto& s : m.states) take(s);
    } else {
        for (const auto& asked : rq.recipients) {
            auto want = trim(asked);
            if (want.size() > 2 && want.front() == '<' && want.back() == '>') want = want.substr(1, want.size() - 2);
            auto it = std::find_if(m.states.begin(), m.states.end(),
                                   [&](const auto& s) { return ascii_lower(s.recipient) == ascii_lower(want); });
            if (it == m.states.end())
                return failed(m.id, fmt::format("it was not held for {} (held for {})", asked, joined(m.meta.recipients)));
            take(*it);
        }
    }
    if (targets.empty()) return result;

    // What allow-listing needs is checked before anything is sent, so the record cannot fail on it.
    bool allow = rq.allow_sender && !m.meta.sender.empty();
    if (allow) {
        if (auto p = store::normalize_pattern(store::EntryType::Sender, m.meta.sender); !p)
            return failed(m.id, fmt::format("cannot allow-list its sender: {}", p.error().message));
        for (const auto& r : targets)
            if (auto o = store::normalize_owner(r); !o)
                return failed(m.id, fmt::format("cannot allow-list for {}: {}", r, o.error().message));
    }

    queue::Envelope envelope{m.meta.sender, to ? std::vector<std::string>{*to} : targets, "release",
                             fmt::format("quarantine {}", m.id)};
    auto entry = queue::submit_file(places.spool_dir, envelope, m.path);
    if (!entry) return failed(m.id, entry.error().message);
    result.queue_entry = *entry;

    // Queued: from here on the message goes out whatever happens. Now the record, in one transaction.
    auto record = [&]() -> Result<void> {
        auto txn = db.transaction();
        if (!txn) return txn.error();
        auto marked = store::mark_released(db, m.id, targets, rq.actor, to.value_or(""));
        if (!marked) return marked.error();
        std::string detail = fmt::format("for {}", joined(targets));
        if (to) detail += fmt::format(", delivered to {}", *to);
        detail += fmt::format(" (queue entry {})", *entry);
        if (marked->size() != targets.size()) detail += "; some were released meanwhile by someone else";
        if (allow) {
            for (const auto& r : targets) {
                store::ListEntry e{.kind = store::ListKind::Allow, .owner = r, .type = store::EntryType::Sender,
                                   .pattern = m.meta.sender,
                                   .comment = fmt::format("released from quarantine {} by {}", m.id, rq.actor)};
                if (auto added = store::add_list_entry(db, std::move(e)); !added) return added.error();
            }
            detail += fmt::format("; {} allow-listed", m.meta.sender);
        } else if (rq.allow_sender) {
            detail += "; the null sender is not allow-listed";
        }
        auto audit = store::record_audit(db, {.actor = rq.actor, .action = "release", .message_id = m.id, .detail = detail});
        if (!audit) return audit.error();
        return txn->commit();
    };
    if (auto r = record(); !r)
        return failed(m.id, fmt::format("it is queued for delivery (entry {}), but recording that failed: {}", *entry,
                                         r.error().message));
    result.released = to ? std::vector<std::string>{*to} : targets;
    return result;
}

}  // namespace pmx::quarantine
