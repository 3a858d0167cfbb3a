#include "spam_scan.hpp"

#include "daemon/log.hpp"

namespace pmx::milter {

namespace {

// With bayes.per_user one score still decides for the whole message: it is computed with the
// first recipient's tokens (plus the global ones).
std::string bayes_owner(const Runtime& rt, const policy::Envelope& envelope) {
    const auto& settings = rt.spam->bayes_settings();
    return spam::bayes::owner_for(settings, envelope.recipients.empty() ? "" : envelope.recipients.front());
}

}  // namespace

std::optional<spam::Report> scan_for_spam(const Runtime& rt, const policy::Envelope& envelope,
                                          std::string_view raw, const mail::ParsedMessage& message,
                                          policy::ScanFacts& facts) {
    if (!rt.spam || !rt.spam->enabled()) return std::nullopt;
    if (raw.size() > rt.spam->headers().max_message_bytes) return std::nullopt;
    // Internal clients are not looked up in blocklists (they are ours, and often private addresses).
    const bool internal = rt.site.internal_client(envelope.client_ip, envelope.auth_user);
    const std::string owner = bayes_owner(rt, envelope);
    const bool with_bayes = rt.store && rt.store->bayes_db && rt.spam->bayes_settings().enabled;
    std::shared_ptr<const spam::bayes::Snapshot> snapshot;
    std::string bayes_problem;
    if (with_bayes) {
        std::lock_guard lock(rt.store->bayes_mutex);
        auto got = rt.store->bayes_cache.get(*rt.store->bayes_db);
        if (got) snapshot = std::move(*got);
        else bayes_problem = "bayes: " + got.error().message;
    }
    // Per-user counts are read from the shared connection: then it is held for the scan.
    const bool per_user = with_bayes && !owner.empty();
    std::unique_lock<std::mutex> lock;
    if (per_user) lock = std::unique_lock(rt.store->bayes_mutex);
    spam::Report report = rt.spam->scan(
        {.message = message, .raw = raw,
         .client_ip = internal ? std::string_view{} : std::string_view(envelope.client_ip),
         .envelope_from = envelope.sender,
         .bayes_snapshot = snapshot.get(),
         .bayes_db = per_user ? &*rt.store->bayes_db : nullptr,
         .bayes_owner = owner});
    if (lock) lock.unlock();
    if (!bayes_problem.empty()) report.problems.push_back(bayes_problem);
    for (const auto& p : report.problems) log::warning("{}: spam scan: {}", envelope.queue_id, p);
    facts.spam_score = report.score;
    facts.spam_rules = report.hit_names();
    return report;
}

void finish_spam(const Runtime& rt, const std::optional<spam::Report>& report,
                 const policy::Envelope& envelope, policy::Decision& decision) {
    if (!report) return;
    if (rt.spam->headers().add) {
        // Replace: a forged X-PMX-Spam-Status from outside never survives.
        policy::HeaderEdit edit{policy::HeaderEditKind::Replace, "X-PMX-Spam-Status", spam::status_header(*report)};
        decision.header_edits.push_back(edit);
        for (auto& r : decision.recipients)
            if (r.outcome == policy::Outcome::Accept) r.header_edits.push_back(edit);
    }
    auto kind = spam::auto_learn_kind(*report, rt.spam->bayes_settings());
    if (!kind || !rt.store || !rt.store->bayes_db) return;
    std::lock_guard lock(rt.store->bayes_mutex);
    auto learned = spam::bayes::learn_tokens(*rt.store->bayes_db, report->tokens, report->bayes_key, *kind,
                                             bayes_owner(rt, envelope));
    if (!learned) log::warning("{}: Bayes auto-learn failed: {}", envelope.queue_id, learned.error().message);
}

}  // namespace pmx::milter
