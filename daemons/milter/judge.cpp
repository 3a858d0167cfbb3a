#include "judge.hpp"

#include "av_scan.hpp"
#include "spam_scan.hpp"
#include "mail/mime.hpp"
#include "policy/memory_lists.hpp"

namespace pmx::milter {

Judgement judge(const Runtime& rt, const policy::Envelope& envelope, std::string_view raw) {
    Judgement j;
    // Scanners see at most max_body_bytes; the whole message is still kept for quarantine.
    auto cap = static_cast<std::size_t>(rt.config->integer("milter.max_body_bytes"));
    j.message = mail::parse_message(raw.size() > cap ? raw.substr(0, cap) : raw, rt.limits);
    j.message.size = raw.size();
    // List edits reach running lookups within DatabaseLists' check interval (1 s): no query per message.
    static const policy::MemoryLists no_lists;
    const policy::ListLookup& lists = rt.store && rt.store->lists ? static_cast<const policy::ListLookup&>(*rt.store->lists)
                                                                  : no_lists;
    // The whole message as received (not the capped prefix): pmx-avd applies its own limits.
    AvScan av = scan_for_viruses(rt, envelope, raw, j.facts);
    auto spam = scan_for_spam(rt, envelope, raw.size() > cap ? raw.substr(0, cap) : raw, j.message, j.facts);
    j.decision = policy::evaluate(*rt.policy, envelope, j.message, j.facts, lists, rt.site, {.trace = false});
    finish_spam(rt, spam, envelope, j.decision);
    apply_av_failure(rt, av, j.decision);
    // After the verdict: parts are scanned one by one only for infected mail the policy cleans.
    j.removal = remove_infected(rt, envelope, raw, j.message, j.facts, j.decision);
    return j;
}

}  // namespace pmx::milter
