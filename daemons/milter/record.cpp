#include "record.hpp"

#include <chrono>

#include "daemon/log.hpp"
#include "store/message_log.hpp"
#include "store/quarantine_store.hpp"

namespace pmx::milter {

Result<std::int64_t> quarantine_message(const Runtime& rt, MessageContext& m, const Judgement& j) {
    if (!rt.store) return Error{"the database is not open"};
    store::QuarantineMeta meta;
    meta.queue_id = m.envelope.queue_id;
    meta.client_ip = m.envelope.client_ip;
    meta.sender = m.envelope.sender;
    meta.subject = j.message.subject;
    meta.score = j.facts.spam_score;
    meta.node = rt.node_name;
    for (const auto& r : j.decision.recipients) {
        if (r.quarantine_reason.empty()) continue;
        meta.recipients.push_back(r.recipient);
        if (meta.reason.empty()) meta.reason = r.quarantine_reason;
        if (meta.rule.empty()) meta.rule = r.decided_by;
    }
    std::lock_guard lock(rt.store->mutex);
    if (m.buffer.spill_fd() >= 0)
        return store::quarantine(rt.store->db, rt.quarantine_dir, store::MessageFd{m.buffer.spill_fd(), m.buffer.size()},
                                 meta);
    auto bytes = m.buffer.view();
    if (!bytes) return bytes.error();
    return store::quarantine(rt.store->db, rt.quarantine_dir, *bytes, meta);
}

void record_message(const Runtime& rt, const MessageContext& m, const Judgement& j,
                    std::optional<std::int64_t> quarantine_id) {
    auto entry = store::make_log_entry(m.envelope, j.decision, j.facts);
    entry.size = m.buffer.size();
    entry.node = rt.node_name;
    entry.quarantine_id = quarantine_id;
    entry.elapsed_us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - m.started).count();
    if (!rt.store) return;
    std::lock_guard lock(rt.store->log_mutex);
    if (auto r = store::append_log(rt.store->log_db, entry); !r)
        log::warning("Failed to write the message log for {}: {}, ignoring", m.envelope.queue_id, r.error().message);
}

}  // namespace pmx::milter
