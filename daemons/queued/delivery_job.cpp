#include "delivery_job.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include "queue/outgoing.hpp"
#include "queue/reinjection_stamp.hpp"
#include "smtp/client.hpp"

namespace pmx::queued {

using queue::RcptStatus;
using queue::State;

namespace {

std::string host_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) < 0 || !host[0]) return "localhost";
    return host;
}

}  // namespace

JobSettings job_settings(const config::Snapshot& s) {
    JobSettings j;
    j.relay = s.string("queue.relay");
    j.helo_name = s.string("queue.helo_name");
    if (j.helo_name.empty()) j.helo_name = host_name();
    j.connect_timeout_ms = s.integer("queue.connect_timeout_ms");
    j.command_timeout_ms = s.integer("queue.command_timeout_ms");
    j.stamp_validity_us = s.integer("queue.stamp_validity_seconds") * 1'000'000;
    j.sent_keep_us = s.integer("queue.sent_keep_seconds") * 1'000'000;
    j.policy = queue::retry_policy(s);
    return j;
}

JobResult run_delivery(const queue::Spool& spool, queue::EntryFile file, const JobSettings& settings,
                       std::shared_ptr<const secret::Keyring> keyring, const std::string& keyring_problem) {
    queue::Entry& e = file.entry();
    JobResult res;
    res.id = e.id;
    res.kind = e.kind;
    res.reference = e.reference;
    res.recipients = e.recipients.size();

    auto message = file.read_message();
    if (!message) {
        res.problem = fmt::format("{}; moved to failed", message.error().message);
        res.next = State::Failed;
        if (auto r = spool.move(file, State::Failed, true); !r) {
            res.problem += fmt::format(" (failed too: {})", r.error().message);
            res.next = State::Active;
        }
        return res;
    }

    std::vector<std::string> attempted = e.pending_recipients();
    smtp::Result result;
    std::int64_t now = queue::now_realtime_us();
    if (attempted.empty()) {
        // Left active by a crash after its last recipient was done: only the move is missing.
    } else if (!keyring || keyring->empty()) {
        // Unstamped, released mail would be filtered (and quarantined) again: wait for the key.
        // A problem of ours, not of the mail: no attempt is counted, nothing given up.
        e.last_error = fmt::format("not sent: no key to stamp it with ({})", keyring_problem);
        e.next_attempt_us = now + settings.policy.min_us;
        res.next = State::Deferred;
        res.next_attempt_us = e.next_attempt_us;
        res.outcome.next = State::Deferred;
        res.outcome.deferred = attempted.size();
        res.attempts = e.attempts;
        res.detail = e.last_error;
        if (auto r = spool.rewrite(file, State::Deferred, true, e.next_attempt_us); !r) {
            res.problem = r.error().message;
            res.next = State::Active;
        }
        return res;
    } else {
        std::string message_id = queue::find_message_id(*message);
        std::string added;
        if (message_id.empty()) message_id = added = queue::make_message_id(e.id, settings.helo_name);
        std::string stamp =
            queue::make_reinjection_stamp(*keyring, attempted, message_id, now, settings.stamp_validity_us);
        std::string outgoing = queue::prepare_outgoing(*message, stamp, added);
        message->clear();
        message->shrink_to_fit();
        smtp::Delivery d{
            .relay = settings.relay,
            .helo_name = settings.helo_name,
            .sender = e.sender,
            .recipients = attempted,
            .message = outgoing,
            .connect_timeout = std::chrono::milliseconds(settings.connect_timeout_ms),
            .command_timeout = std::chrono::milliseconds(settings.command_timeout_ms),
        };
        result = smtp::deliver(d);
        now = queue::now_realtime_us();
    }

    if (attempted.empty()) {
        res.outcome.next = e.count(RcptStatus::Failed) > 0 ? State::Failed : State::Sent;
    } else {
        res.outcome = queue::apply_result(e, attempted, result, settings.policy, now);
    }
    res.attempts = e.attempts;
    res.next = res.outcome.next;
    res.next_attempt_us = res.outcome.next_attempt_us;
    res.detail = e.last_error;
    if (res.detail.empty()) {
        for (const auto& r : e.recipients)
            if (r.status == RcptStatus::Delivered) res.detail = r.reply;
    }

    Result<void> written;
    if (res.next == State::Sent && settings.sent_keep_us == 0) {
        written = spool.remove(file);
    } else if (res.next == State::Sent) {
        // Delivered: losing this record in a crash costs nothing but the record.
        written = spool.rewrite(file, State::Sent, false);
    } else {
        written = spool.rewrite(file, res.next, true, res.next == State::Deferred ? res.next_attempt_us : 0);
    }
    if (!written) {
        res.problem = written.error().message;
        // Keep it away from active/, where only a restart would find it again.
        std::int64_t later = queue::now_realtime_us() + settings.policy.min_us;
        if (res.next != State::Sent && spool.move(file, State::Deferred, true)) {
            res.next = State::Deferred;
            res.next_attempt_us = later;
        } else if (res.next == State::Sent) {
            // Delivered; the old state stays in active/ and would be sent again after a restart.
            if (spool.remove(file)) res.problem += " (delivered; entry removed)";
            else res.next = State::Active;
        } else {
            res.next = State::Active;
        }
    }
    return res;
}

}  // namespace pmx::queued
