#include "av_scan.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "av/client.hpp"
#include "daemon/log.hpp"
#include "milter_service.hpp"

namespace pmx::milter {

namespace {
void count(const char* name) { MilterService::instance().counters().add(name); }
}  // namespace

AvScan scan_for_viruses(const Runtime& rt, const policy::Envelope& envelope, std::string_view raw,
                        policy::ScanFacts& facts) {
    AvScan scan;
    if (!rt.av.enabled) return scan;
    scan.ran = true;
    auto v = av::scan_bytes(rt.av.socket, raw, rt.av.timeout);
    if (!v) {
        scan.failure = v.error().message;
    } else if (v->kind == av::VerdictKind::Error) {
        scan.failure = fmt::format("pmx-avd could not scan it: {}", v->reason);
    } else {
        count("av_scanned");
        if (v->kind == av::VerdictKind::Infected) {
            facts.virus = true;
            facts.virus_names = v->names;
            count("av_infected");
            log::notice("Message {} from <{}> carries {}", envelope.queue_id, envelope.sender, fmt::join(v->names, ", "));
        } else if (v->kind == av::VerdictKind::Unscannable) {
            facts.unscannable = true;
            count("av_unscannable");
            log::info("Message {} from <{}> is unscannable: {}", envelope.queue_id, envelope.sender, v->reason);
        }
        return scan;
    }
    count("av_failures");
    log::warning("Failed to scan message {} for viruses: {}", envelope.queue_id, *scan.failure);
    return scan;
}

void apply_av_failure(const Runtime& rt, const AvScan& scan, policy::Decision& decision) {
    if (!scan.failure || rt.av.on_failure == av::OnFailure::Accept) return;
    const bool tempfail = rt.av.on_failure == av::OnFailure::Tempfail;
    for (auto& r : decision.recipients) {
        if (r.outcome != policy::Outcome::Accept && r.outcome != policy::Outcome::Quarantine) continue;
        r.outcome = tempfail ? policy::Outcome::Tempfail : policy::Outcome::Reject;
        r.smtp_code = tempfail ? "451" : "554";
        r.smtp_xcode = tempfail ? "4.3.0" : "5.3.0";
        r.smtp_text = tempfail ? "Virus scanner unavailable, try again later" : "Virus scanner unavailable";
        r.quarantine_reason.clear();
        r.redirect_to.clear();
        r.decided_by = "av.on_failure";
    }
}

}  // namespace pmx::milter
