#include "reinjected.hpp"

#include <string>

#include "daemon/log.hpp"
#include "judge.hpp"
#include "milter_service.hpp"
#include "queue/reinjection_stamp.hpp"
#include "record.hpp"
#include "store/database.hpp"
#include "util/text.hpp"

namespace pmx::milter {

std::optional<sfsistat> accept_if_reinjected(SMFICTX* ctx, MessageContext& m) {
    if (!m.reinjection_stamp) return std::nullopt;
    const Runtime& rt = *m.runtime;

    // Nobody downstream needs the stamp; a copied one must not travel further either.
    std::string name(queue::reinjection_header);
    auto it = m.header_occurrences.find(ascii_lower(name));
    for (int i = it == m.header_occurrences.end() ? 0 : it->second; i >= 1; --i)
        smfi_chgheader(ctx, name.data(), i, nullptr);
    if (it != m.header_occurrences.end()) it->second = 0;

    auto check = rt.keyring ? queue::check_reinjection_stamp(*rt.keyring, *m.reinjection_stamp, m.envelope.recipients,
                                                             m.message_id, store::now_us())
                            : queue::StampCheck::Forged;
    if (check != queue::StampCheck::Valid) {
        log::warning("Message {} from {} carries a {} {} header: removed, filtering it as usual", m.envelope.queue_id,
                     m.envelope.client_ip, queue::to_string(check), queue::reinjection_header);
        MilterService::instance().counters().add("reinjection_stamps_refused");
        return std::nullopt;
    }

    Judgement j;
    for (const auto& r : m.envelope.recipients) {
        policy::RecipientDecision d;
        d.recipient = r;
        d.decided_by = "re-injected by pmx-queued";
        j.decision.recipients.push_back(std::move(d));
    }
    MilterService::instance().counters().add("reinjected");
    record_message(rt, m, j, std::nullopt);
    return SMFIS_ACCEPT;
}

}  // namespace pmx::milter
