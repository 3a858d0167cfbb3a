// The milter's use of pmx-avd: the whole message (as the MTA sent it, CRLF, every part)
// goes to the daemon in one request; its verdict becomes the policy's scan facts
// (virus, virus_name, unscannable). One request per message, not per part: ClamAV's own
// MIME parser decodes every part and nested message, and one round trip costs least.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/decision.hpp"
#include "runtime.hpp"

namespace pmx::milter {

struct AvScan {
    bool ran = false;                    // av.enabled and a scan was attempted
    std::optional<std::string> failure;  // pmx-avd down, too slow, or answered with an error
};

// Fills facts.virus / virus_names / unscannable. Never throws for a daemon failure:
// that is returned, and apply_av_failure turns it into av.on_failure.
AvScan scan_for_viruses(const Runtime& rt, const policy::Envelope& envelope, std::string_view raw,
                        policy::ScanFacts& facts);

// After the policy ran: when the scan failed and av.on_failure is tempfail (the default) or
// reject, every recipient the policy would deliver or quarantine unscanned gets that instead.
void apply_av_failure(const Runtime& rt, const AvScan& scan, policy::Decision& decision);

}  // namespace pmx::milter
