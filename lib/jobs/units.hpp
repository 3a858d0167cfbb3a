// The systemd units of a job, as the generator writes them: pmx-job-NAME.service
// (Type=oneshot, runs the command) and pmx-job-NAME.timer (PartOf= pmx-scheduler.target;
// an enabled job's timer is wanted by the target through a .wants/ link).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "jobs/jobs.hpp"

namespace pmx::jobs {

struct RenderOptions {
    bool user_manager = false;  // a user manager: no User=, pmx --user, %t visible
    std::string bindir;         // where `pmx` is
    std::string libexecdir;     // where pmx's own programs are
    // PMX_CONFIG_DIR / PMX_VENDOR_DIR the generator saw: the job reads the same files.
    std::vector<std::pair<std::string, std::string>> environment;
};

struct JobUnits {
    std::string service;  // text of pmx-job-NAME.service
    std::string timer;    // text of pmx-job-NAME.timer
};

JobUnits render_units(const Job& job, const RenderOptions& options);

// Text of pmx-failure-mail@.service (kFailureMailTemplate): `pmx jobs notify-failure %i`, the
// OnFailure= unit of jobs with on_failure = "mail".
std::string render_failure_mail_unit(const RenderOptions& options);

// ExecStart= words: quoted when needed, '%' and '$' escaped (systemd expands both).
std::string exec_line(const std::vector<std::string>& argv);

}  // namespace pmx::jobs
