#include "policy/decision.hpp"

#include <algorithm>

namespace pmx::policy {

bool Decision::any_quarantine() const {
    return std::any_of(recipients.begin(), recipients.end(),
                       [](const RecipientDecision& r) { return !r.quarantine_reason.empty(); });
}

bool Decision::remove_infected() const {
    return std::any_of(recipients.begin(), recipients.end(), [](const RecipientDecision& r) {
        return r.outcome == Outcome::Accept && r.remove_infected;
    });
}

bool Decision::copies_differ() const {
    const RecipientDecision* first = nullptr;
    for (const auto& r : recipients) {
        if (r.outcome != Outcome::Accept) continue;
        if (!first) first = &r;
        else if (r.header_edits != first->header_edits || r.subject_tag != first->subject_tag) return true;
    }
    return false;
}

std::string_view outcome_name(Outcome o) {
    switch (o) {
        case Outcome::Accept: return "accept";
        case Outcome::Quarantine: return "quarantine";
        case Outcome::Reject: return "reject";
        case Outcome::Tempfail: return "tempfail";
        case Outcome::Discard: return "discard";
    }
    return "?";
}

std::string_view header_edit_name(HeaderEditKind k) {
    switch (k) {
        case HeaderEditKind::Add: return "add";
        case HeaderEditKind::Replace: return "replace";
        case HeaderEditKind::Remove: return "remove";
    }
    return "?";
}

}  // namespace pmx::policy
