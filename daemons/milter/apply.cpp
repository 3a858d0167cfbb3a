#include "apply.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/log.hpp"
#include "judge.hpp"
#include "milter_service.hpp"
#include "notify.hpp"
#include "record.hpp"
#include "reinjected.hpp"
#include "util/text.hpp"

namespace pmx::milter {

namespace {

using policy::Outcome;

char* c(const std::string& s) { return const_cast<char*>(s.c_str()); }

std::string angle(const std::string& address) { return "<" + address + ">"; }

void count(const char* name) { MilterService::instance().counters().add(name); }

// The message-level answer when no recipient is left to deliver to.
sfsistat final_without_delivery(SMFICTX* ctx, const policy::Decision& d) {
    auto rejected = std::find_if(d.recipients.begin(), d.recipients.end(),
                                 [](const auto& r) { return r.outcome == Outcome::Reject; });
    if (rejected != d.recipients.end()) {
        std::string code = rejected->smtp_code.empty() ? "550" : rejected->smtp_code;
        std::string xcode = rejected->smtp_xcode.empty() ? "5.7.1" : rejected->smtp_xcode;
        std::string text = rejected->smtp_text.empty() ? "Message rejected by policy" : rejected->smtp_text;
        smfi_setreply(ctx, c(code), c(xcode), c(text));
        count("rejected");
        return SMFIS_REJECT;
    }
    count("discarded_or_quarantined");
    return SMFIS_DISCARD;
}

}  // namespace

sfsistat internal_error_verdict(SMFICTX* ctx, const config::SnapshotPtr& config) {
    const std::string& mode = config ? config->string("milter.on_internal_error") : std::string("tempfail");
    if (mode == "accept") return SMFIS_ACCEPT;
    if (mode == "reject") {
        smfi_setreply(ctx, c("554"), c("5.3.0"), c("pmx could not judge this message"));
        return SMFIS_REJECT;
    }
    smfi_setreply(ctx, c("451"), c("4.3.0"), c("pmx could not judge this message, try again later"));
    return SMFIS_TEMPFAIL;
}

sfsistat finish_message(SMFICTX* ctx, MessageContext& m) {
    count("messages");
    const Runtime& rt = *m.runtime;
    if (const char* qid = smfi_getsymval(ctx, c("i"))) m.envelope.queue_id = qid;
    if (m.internal_error) {
        log::error("Failed to collect message {}: {}", m.envelope.queue_id, *m.internal_error);
        count("internal_errors");
        return internal_error_verdict(ctx, rt.config);
    }
    if (m.recipients_refused > 0) {
        // More recipients than milter.max_recipients: the whole message is deferred (no reply
        // was negotiated for RCPT, so this is the first point we can answer).
        smfi_setreply(ctx, c("452"), c("4.5.3"), c("Too many recipients for one message"));
        count("recipients_deferred");
        return SMFIS_TEMPFAIL;
    }
    if (m.envelope.recipients.empty()) return SMFIS_ACCEPT;
    if (auto reinjected = accept_if_reinjected(ctx, m)) return *reinjected;

    auto raw = m.buffer.view();
    if (!raw) {
        log::error("Failed to read message {}: {}", m.envelope.queue_id, raw.error().message);
        count("internal_errors");
        return internal_error_verdict(ctx, rt.config);
    }
    Judgement j = judge(rt, m.envelope, *raw);
    const policy::Decision& d = j.decision;

    // A recipient to tempfail means the whole message comes again later: act on nothing now,
    // so nobody gets a copy twice.
    auto tempfailed = std::find_if(d.recipients.begin(), d.recipients.end(),
                                   [](const auto& r) { return r.outcome == Outcome::Tempfail; });
    if (tempfailed != d.recipients.end()) {
        smfi_setreply(ctx, c(tempfailed->smtp_code.empty() ? "451" : tempfailed->smtp_code),
                      c(tempfailed->smtp_xcode.empty() ? "4.7.1" : tempfailed->smtp_xcode),
                      c(tempfailed->smtp_text.empty() ? "Try again later" : tempfailed->smtp_text));
        count("tempfailed");
        record_message(rt, m, j, std::nullopt);
        return SMFIS_TEMPFAIL;
    }

    // Quarantine first, durably: only then may recipients leave the MTA's hands.
    std::optional<std::int64_t> quarantine_id;
    if (d.any_quarantine()) {
        auto q = quarantine_message(rt, m, j);
        if (!q) {
            log::error("Failed to quarantine message {}: {}", m.envelope.queue_id, q.error().message);
            count("internal_errors");
            return internal_error_verdict(ctx, rt.config);
        }
        quarantine_id = *q;
        count("quarantined");
    }

    // remove_infected: the delivered copy's new body, before any recipient changes hands. If the
    // MTA refuses it, nothing infected may go out: tempfail, whatever milter.on_internal_error says.
    if (j.removal) {
        if (smfi_replacebody(ctx, reinterpret_cast<unsigned char*>(j.removal->body.data()),
                             static_cast<int>(j.removal->body.size())) != MI_SUCCESS) {
            log::error("Failed to replace the body of message {} (did the MTA grant SMFIF_CHGBODY?)", m.envelope.queue_id);
            count("internal_errors");
            smfi_setreply(ctx, c("451"), c("4.3.0"), c("pmx could not remove a virus, try again later"));
            return SMFIS_TEMPFAIL;
        }
        for (const auto& what : j.removal->removed)
            smfi_addheader(ctx, c("X-PMX-Virus-Removed"), c(" " + std::string(what.substr(0, 900))));
    }

    std::size_t delivered = 0;
    for (const auto& r : d.recipients) {
        if (r.outcome == Outcome::Accept && r.redirect_to.empty()) {
            ++delivered;
            continue;
        }
        smfi_delrcpt(ctx, c(angle(r.recipient)));
        if (r.outcome == Outcome::Accept)
            for (const auto& to : r.redirect_to) {
                smfi_addrcpt(ctx, c(angle(to)));
                ++delivered;
            }
    }
    if (delivered == 0) {
        record_message(rt, m, j, quarantine_id);
        send_notifications(rt, m, j, quarantine_id);
        return final_without_delivery(ctx, d);
    }

    for (const auto& to : d.add_recipients) smfi_addrcpt(ctx, c(angle(to)));
    for (const auto& e : d.header_edits) {
        switch (e.kind) {
            case policy::HeaderEditKind::Add:
                // SMFIP_HDR_LEADSPC: the MTA adds no space after the colon, so we do.
                smfi_addheader(ctx, c(e.name), c(" " + e.value));
                break;
            case policy::HeaderEditKind::Replace:  // every copy goes, then one is added
            case policy::HeaderEditKind::Remove: {
                auto it = m.header_occurrences.find(ascii_lower(e.name));
                // Remove from the last to the first, so indexes stay valid.
                for (int i = it == m.header_occurrences.end() ? 0 : it->second; i >= 1; --i)
                    smfi_chgheader(ctx, c(e.name), i, nullptr);
                if (it != m.header_occurrences.end()) it->second = 0;
                if (e.kind == policy::HeaderEditKind::Replace) smfi_addheader(ctx, c(e.name), c(" " + e.value));
                break;
            }
        }
    }
    if (!d.subject_tag.empty()) {
        std::string original = m.subject_raw.value_or("");
        while (!original.empty() && original.front() == ' ') original.erase(0, 1);
        std::string tagged = " " + d.subject_tag + (original.empty() ? "" : " " + original);
        if (m.subject_raw) smfi_chgheader(ctx, c("Subject"), 1, c(tagged));
        else smfi_addheader(ctx, c("Subject"), c(tagged));
    }
    count("accepted");
    record_message(rt, m, j, quarantine_id);
    send_notifications(rt, m, j, quarantine_id);
    return SMFIS_ACCEPT;
}

}  // namespace pmx::milter
