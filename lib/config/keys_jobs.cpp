// Keys of the Scheduler and its jobs. No daemon reads them: `pmx jobs notify-failure` (run by
// pmx-failure-mail@NAME.service when a job with on_failure = "mail" fails) reads them at each
// run; they name pmx-queued, which delivers the mail (a reload of it is harmless).
// One section's part of the key table (schema.cpp joins them, in the order of keys.hpp).
#include "config/keys.hpp"

namespace pmx::config {

void add_jobs_keys(std::vector<KeySpec>& keys) {
    keys.insert(keys.end(), {
        {.name = "jobs.failure_mail_to", .type = Type::StringList, .default_value = StringList{},
         .services = {"queued"},
         .doc = "Addresses mailed (through pmx-queued) when a job with on_failure = \"mail\" fails; "
                "empty: no mail, the failure is only logged"},
        {.name = "jobs.failure_mail_from", .type = Type::String, .default_value = std::string(""),
         .services = {"queued"},
         .doc = "From address (and envelope sender) of job failure mails; empty: postmaster@ this host's name"},
    });
}

}  // namespace pmx::config
