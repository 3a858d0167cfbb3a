#include "av_remove.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>

#include "av/client.hpp"
#include "av/remove_parts.hpp"
#include "daemon/log.hpp"
#include "milter_service.hpp"

namespace pmx::milter {

namespace {

using Clock = std::chrono::steady_clock;

void count(const char* name) { MilterService::instance().counters().add(name); }

// What is left of one deadline (av.timeout_ms covers all the per-part scans and the check).
av::Timeout left(Clock::time_point deadline) {
    return std::chrono::duration_cast<av::Timeout>(deadline - Clock::now());
}

// SMTP replies are 7-bit: signature names are, but be sure.
std::string ascii(std::string_view s) {
    std::string out;
    for (unsigned char c : s) out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?';
    return out;
}

Result<std::vector<av::RemovedPart>> infected_parts(const Runtime& rt, std::string_view raw,
                                                    const mail::ParsedMessage& message, Clock::time_point deadline) {
    std::vector<av::RemovedPart> out;
    for (std::size_t i : av::scan_units(message)) {
        if (left(deadline).count() <= 0) return Error{"out of time (av.timeout_ms) scanning the parts"};
        std::string body = av::decoded_body(raw, message.parts[i]);
        if (body.empty()) continue;
        auto v = av::scan_bytes(rt.av.socket, body, left(deadline));
        if (!v) return v.error();
        if (v->kind == av::VerdictKind::Error) return Error{fmt::format("pmx-avd could not scan a part: {}", v->reason)};
        if (v->kind == av::VerdictKind::Infected) out.push_back({i, v->names});
        // An unscannable part is left in: the check of the cut copy decides.
    }
    if (out.empty()) return Error{"the virus is in no one part"};
    return out;
}

Result<Removal> cut(const Runtime& rt, std::string_view raw, const mail::ParsedMessage& message,
                    const policy::Decision& decision) {
    auto cap = static_cast<std::size_t>(rt.config->integer("milter.max_body_bytes"));
    if (raw.size() > cap) return Error{fmt::format("the message is larger than milter.max_body_bytes ({} bytes)", cap)};
    const auto deadline = Clock::now() + rt.av.timeout;
    auto parts = infected_parts(rt, raw, message, deadline);
    if (!parts) return parts.error();
    auto rewritten = av::remove_parts(raw, message, *parts, decision.removal_note, rt.limits);
    if (!rewritten) return rewritten.error();
    auto check = av::scan_bytes(rt.av.socket, rewritten->message, left(deadline));
    if (!check) return check.error();
    if (check->kind == av::VerdictKind::Infected)
        return Error{fmt::format("the copy without the infected parts still carries {}", fmt::join(check->names, ", "))};
    if (check->kind != av::VerdictKind::Clean)
        return Error{fmt::format("the copy without the infected parts is {}: {}", av::verdict_kind_name(check->kind),
                                 check->reason)};
    Removal r;
    r.body = rewritten->message.substr(rewritten->body_offset);
    r.removed = std::move(rewritten->removed);
    return r;
}

void fall_back(const Runtime& rt, const policy::ScanFacts& facts, policy::Decision& decision) {
    const bool reject = rt.config->string("av.remove_fallback") == "reject";
    for (auto& r : decision.recipients) {
        if (r.outcome != policy::Outcome::Accept || !r.remove_infected) continue;
        r.redirect_to.clear();
        r.decided_by = "av.remove_fallback";
        if (reject) {
            r.outcome = policy::Outcome::Reject;
            r.smtp_code = "550";
            r.smtp_xcode = "5.7.1";
            r.smtp_text = ascii(fmt::format("Message contains a virus ({})", fmt::join(facts.virus_names, ", ")));
            r.quarantine_reason.clear();
        } else {
            r.outcome = policy::Outcome::Quarantine;
            if (r.quarantine_reason.empty()) r.quarantine_reason = "virus";
        }
    }
}

}  // namespace

std::optional<Removal> remove_infected(const Runtime& rt, const policy::Envelope& envelope, std::string_view raw,
                                       const mail::ParsedMessage& message, const policy::ScanFacts& facts,
                                       policy::Decision& decision) {
    if (!facts.virus || !decision.remove_infected()) return std::nullopt;
    auto r = cut(rt, raw, message, decision);
    if (r) {
        count("av_parts_removed");
        log::notice("Message {} from <{}>: removed {}", envelope.queue_id, envelope.sender, fmt::join(r->removed, "; "));
        return std::move(*r);
    }
    count("av_remove_failed");
    log::warning("Failed to remove the infected parts of message {}: {}; av.remove_fallback ({}) applies",
                 envelope.queue_id, r.error().message, rt.config->string("av.remove_fallback"));
    fall_back(rt, facts, decision);
    return std::nullopt;
}

}  // namespace pmx::milter
