// One scored finding of the anti-spam engine: a rule that hit, the Bayes verdict or a DNS
// blocklist listing. The rules, bayes and dnsbl parts each produce these; the scanner adds
// them up and `pmx spam check` and the X-PMX-Spam headers explain the score with them.
#pragma once

#include <string>

namespace pmx::spam {

struct Hit {
    std::string name;         // "SUBJ_ALL_CAPS", "BAYES_99", "RCVD_IN_PMX_TEST"
    double score = 0;         // points this hit adds (may be negative)
    std::string description;  // one line for people: the rule's `describe`, or what was listed
    bool operator==(const Hit&) const = default;
};

}  // namespace pmx::spam
