#include "notify.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <chrono>
#include <ctime>

#include "daemon/log.hpp"
#include "milter_service.hpp"
#include "policy/notice.hpp"
#include "queue/submit.hpp"
#include "util/atomic_file.hpp"
#include "util/text.hpp"

namespace pmx::milter {

namespace {

void count(const char* name) { MilterService::instance().counters().add(name); }

// notify/NAME.txt: the admin's copy, else the vendor's, else the built-in text.
std::string template_text(const std::string& name) {
    auto layout = config::Layout::from_environment();
    for (const auto& dir : {layout.config_dir, layout.vendor_dir}) {
        std::error_code ec;
        auto file = dir / "notify" / (name + ".txt");
        if (!std::filesystem::exists(file, ec)) continue;
        auto text = read_file(file);
        if (text && text->size() <= 64 * 1024) return std::move(*text);
        log::warning("Failed to read notice template {}: {}, ignoring", file.string(),
                     text ? std::string("larger than 64 KiB") : text.error().message);
    }
    return std::string(policy::default_notice_template);
}

std::string rfc5322_date() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S %z", &tm);
    return buf;
}

std::string message_id(const std::string& node) {
    static std::atomic<std::uint64_t> serial{0};
    auto now = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
    return fmt::format("<pmx-notice.{}.{}.{}@{}>", now.count(), ::getpid(), serial++, node.empty() ? "localhost" : node);
}

// What happened to the message, in words: for one recipient, or for all of them.
std::string action_text(const policy::Decision& d, const std::string& recipient, bool removed) {
    auto one = [&](const policy::RecipientDecision& r) -> std::string {
        switch (r.outcome) {
            case policy::Outcome::Accept:
                if (removed) return "delivered without the infected attachments";
                return r.redirect_to.empty() ? "delivered" : fmt::format("redirected to {}", fmt::join(r.redirect_to, ", "));
            case policy::Outcome::Quarantine: return "quarantined";
            case policy::Outcome::Reject: return "rejected";
            case policy::Outcome::Tempfail: return "deferred";
            case policy::Outcome::Discard: return "discarded";
        }
        return "?";
    };
    if (!recipient.empty())
        for (const auto& r : d.recipients)
            if (r.recipient == recipient) return one(r);
    std::string first;
    bool same = true;
    for (const auto& r : d.recipients) {
        auto t = one(r);
        if (first.empty()) first = t;
        else if (t != first) same = false;
    }
    if (same) return first;
    std::vector<std::string> each;
    for (const auto& r : d.recipients) each.push_back(fmt::format("{} for {}", one(r), r.recipient));
    return fmt::format("{}", fmt::join(each, "; "));
}

// RFC 3834: no automatic notice back to the sender of automatic mail; and never a notice about
// one of our own notices (its Message-ID says so), whoever it goes to: a rule that notifies on
// every message would otherwise loop through pmx-queued and the MTA.
bool auto_submitted(const mail::ParsedMessage& msg) {
    const mail::Header* h = msg.header("Auto-Submitted");
    if (!h) return false;
    return ascii_lower(trim(h->value)) != "no";
}
bool own_notice(const mail::ParsedMessage& msg) {
    const mail::Header* id = msg.header("Message-ID");
    return auto_submitted(msg) && id && trim(id->value).starts_with("<pmx-notice.");
}

}  // namespace

void send_notifications(const Runtime& rt, const MessageContext& m, const Judgement& j,
                        std::optional<std::int64_t> quarantine_id) {
    if (j.decision.notifications.empty()) return;
    if (own_notice(j.message)) {
        log::info("Message {} is a notice of ours: no notice about it", m.envelope.queue_id);
        return;
    }
    const bool to_sender_allowed = !auto_submitted(j.message);
    const auto& cfg = *rt.config;
    const std::string& from_setting = cfg.string("av.notify_from");
    const std::string header_from = from_setting.empty() ? "postmaster@" + rt.node_name : from_setting;
    const auto spool = queue::spool_directory(cfg);
    for (const auto& n : j.decision.notifications) {
        if (!n.to_admin && n.to == m.envelope.sender && !to_sender_allowed) {
            log::info("Message {} is auto-submitted: no notice to its sender", m.envelope.queue_id);
            continue;
        }
        std::string to = n.to_admin ? cfg.string("av.notify_admin") : n.to;
        if (to.empty()) {
            log::warning("Message {}: rule \"{}\" notifies the admin, but av.notify_admin is not set, ignoring",
                         m.envelope.queue_id, n.rule);
            count("notify_failures");
            continue;
        }
        policy::NoticeFacts f;
        f.from = header_from;
        f.to = to;
        f.date = rfc5322_date();
        f.message_id = message_id(rt.node_name);
        f.sender = m.envelope.sender.empty() ? "<>" : m.envelope.sender;
        f.recipients = fmt::format("{}", fmt::join(m.envelope.recipients, ", "));
        f.recipient = n.recipient;
        f.subject = j.message.subject;
        f.virus_names = fmt::format("{}", fmt::join(j.facts.virus_names, ", "));
        f.queue_id = m.envelope.queue_id;
        f.client_ip = m.envelope.client_ip;
        f.rule = n.rule;
        f.action = action_text(j.decision, n.recipient, j.removal.has_value());
        if (j.removal) f.removed = fmt::format("{}", fmt::join(j.removal->removed, "; "));
        if (quarantine_id) f.quarantine_id = std::to_string(*quarantine_id);
        f.node = rt.node_name;
        std::string text = policy::render_notice(template_text(n.template_name), f);
        queue::Envelope env{from_setting, {to}, "notification",
                            fmt::format("message {} from <{}>, rule \"{}\"", m.envelope.queue_id, m.envelope.sender, n.rule)};
        auto id = queue::submit(spool, env, text);
        if (!id) {
            count("notify_failures");
            log::warning("Failed to spool a notice about message {} for {}: {}, ignoring", m.envelope.queue_id, to,
                         id.error().message);
            continue;
        }
        count("notifications");
        log::info("Message {}: notice for {} spooled as {} (template {})", m.envelope.queue_id, to, *id, n.template_name);
    }
}

}  // namespace pmx::milter
