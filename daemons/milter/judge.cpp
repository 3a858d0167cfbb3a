#include "judge.hpp"

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
    j.decision = policy::evaluate(*rt.policy, envelope, j.message, j.facts, lists, rt.site, {.trace = false});
    return j;
}

}  // namespace pmx::milter
