#include "policy/decision.hpp"

#include <algorithm>

namespace pmx::policy {

bool Decision::any_quarantine() const {
    return std::any_of(recipients.begin(), recipients.end(),
                       [](const RecipientDecision& r) { return !r.quarantine_reason.empty(); });
}

}  // namespace pmx::policy
