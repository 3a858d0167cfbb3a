// The policy's remove_infected, in the milter: once the policy asked for it (a delivered
// recipient's rule has remove_infected) and the whole-message scan found a virus, each part is
// scanned on its own through pmx-avd, the infected ones are cut out (lib/av/remove_parts.hpp),
// and the copy without them is scanned once more. Only a clean copy is delivered.
//
// Why the whole message first and parts only then: clean mail (nearly all of it) costs one
// round trip, as before; the per-part scans are paid by infected mail only.
//
// When the cut cannot be made (single-part message, the virus in no one part, a scan failure,
// a message over milter.max_body_bytes, a copy that still scans infected), every delivered
// recipient that asked for remove_infected gets av.remove_fallback instead: quarantine (the
// default) or reject. The infected part is never delivered.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mail/message.hpp"
#include "policy/decision.hpp"
#include "runtime.hpp"

namespace pmx::milter {

struct Removal {
    std::string body;                  // the new body, for smfi_replacebody
    std::vector<std::string> removed;  // "eicar.com (Test.EICAR.HDB-1.UNOFFICIAL)" per note
};

// Returns the new body when parts were cut; otherwise nullopt, with the fallback applied to
// `decision` when remove_infected was asked for and could not be done.
std::optional<Removal> remove_infected(const Runtime& rt, const policy::Envelope& envelope, std::string_view raw,
                                       const mail::ParsedMessage& message, const policy::ScanFacts& facts,
                                       policy::Decision& decision);

}  // namespace pmx::milter
