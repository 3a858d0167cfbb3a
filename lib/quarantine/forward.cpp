#include "quarantine/forward.hpp"

#include <fmt/format.h>

#include "quarantine/address.hpp"
#include "queue/submit.hpp"
#include "store/audit.hpp"
#include "store/quarantine_store.hpp"

namespace pmx::quarantine {

Result<std::string> forward(store::Database& db, const Places& places, const ForwardRequest& rq) {
    auto failed = [&](std::string_view why) {
        return Error{fmt::format("Failed to forward quarantined message {}: {}", rq.id, why)};
    };
    if (rq.actor.empty()) return failed("no actor given for the audit log");
    auto to = delivery_address(rq.to);
    if (!to) return failed(to.error().message);
    auto found = store::find_quarantined(db, places.quarantine_dir, rq.id);
    if (!found) return found.error();
    if (!found->has_value()) return Error{fmt::format("No quarantined message with id {}", rq.id)};
    const auto& m = **found;

    queue::Envelope envelope{m.meta.sender, {*to}, "forward", fmt::format("quarantine {}", m.id)};
    auto entry = queue::submit_file(places.spool_dir, envelope, m.path);
    if (!entry) return failed(entry.error().message);
    auto audit = store::record_audit(db, {.actor = rq.actor, .action = "forward", .message_id = m.id,
                                          .detail = fmt::format("to {} (queue entry {})", *to, *entry)});
    if (!audit)
        return failed(fmt::format("it is queued for delivery (entry {}), but recording that failed: {}", *entry,
                                  audit.error().message));
    return *entry;
}

}  // namespace pmx::quarantine
