// pmx-jobs-generator: systemd runs it early at boot and at every daemon-reload (system and
// user managers). It reads the job files (jobs.toml, its drop-ins), writes
// pmx-job-NAME.service and .timer into the normal output dir (argv[1]), links each enabled
// job's timer into pmx-scheduler.target.wants/, and writes the template
// pmx-failure-mail@.service (OnFailure= of the jobs that mail their failures). It calls no
// other process (logging aside) and never reads /var; a bad job is skipped with a warning in
// the journal and never fails the manager's reload: the exit code is 0 unless the output dir
// is unusable.
#include <fcntl.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "jobs/jobs.hpp"
#include "jobs/units.hpp"
#include "pmx-build-config.h"

namespace {

namespace fs = std::filesystem;

// A warning goes to the journal (one datagram to journald's socket, as systemd's own generators
// log; nothing waits for an answer). A terminal also gets it; without a journal (early boot)
// stderr gets it with "<4>", which kmsg files as a warning.
void warn(const std::string& text) {
    static const bool tty = isatty(STDERR_FILENO);
    const std::string line = "pmx-jobs-generator: " + text;
    const bool journaled = sd_journal_send("MESSAGE=%s", line.c_str(), "PRIORITY=4", "SYSLOG_IDENTIFIER=pmx-jobs-generator",
                                           nullptr) >= 0;
    if (tty || !journaled) fmt::print(stderr, "{}{}\n", tty ? "" : "<4>", line);
}

// Generator output lives on a tmpfs rebuilt at each run: no fsync, just complete files.
bool write_unit(const fs::path& path, const std::string& text) {
    FILE* f = std::fopen(path.c_str(), "we");
    if (!f) {
        warn(fmt::format("Failed to create {}: {}", path.string(), std::strerror(errno)));
        return false;
    }
    bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) warn(fmt::format("Failed to write {}: {}", path.string(), std::strerror(errno)));
    return ok;
}

int run(int argc, char** argv) {
    if (argc != 2 && argc != 4) {
        fmt::print(stderr, "usage: pmx-jobs-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n");
        return 1;
    }
    const fs::path out = argv[1];
    std::error_code ec;
    if (!fs::is_directory(out, ec)) {
        warn(fmt::format("Failed to use output folder {}: not a folder", out.string()));
        return 1;
    }

    pmx::jobs::RenderOptions options;
    const char* scope = std::getenv("SYSTEMD_SCOPE");  // "system" or "user" (systemd >= 251)
    options.user_manager = scope && std::strcmp(scope, "user") == 0;
    options.bindir = PMX_BINDIR;
    options.libexecdir = PMX_LIBEXECDIR;
    for (const char* var : {"PMX_CONFIG_DIR", "PMX_VENDOR_DIR"})
        if (const char* v = std::getenv(var); v && *v) options.environment.emplace_back(var, v);

    const auto layout = pmx::jobs::Layout::from_environment();
    const auto loaded = pmx::jobs::load(layout);
    for (const auto& p : loaded.problems) warn(p);
    if (!loaded.problems.empty())
        warn("Jobs with problems are left out; `pmx jobs check` lists the problems, the other jobs are scheduled");

    // The OnFailure= template of jobs with on_failure = "mail" (written even when none has it
    // yet: a `pmx jobs set --on-failure mail` then needs nothing more than this reload).
    write_unit(out / pmx::jobs::kFailureMailTemplate, pmx::jobs::render_failure_mail_unit(options));

    const fs::path wants = out / (std::string(pmx::jobs::kSchedulerTarget) + ".wants");
    for (const auto& job : loaded.jobs) {
        auto units = pmx::jobs::render_units(job, options);
        const auto service = pmx::jobs::service_unit(job.name);
        const auto timer = pmx::jobs::timer_unit(job.name);
        if (!write_unit(out / service, units.service) || !write_unit(out / timer, units.timer)) continue;
        if (!job.enabled) continue;
        fs::create_directories(wants, ec);
        fs::create_symlink(fs::path("..") / timer, wants / timer, ec);
        if (ec) warn(fmt::format("Failed to link {} into {}: {}", timer, wants.string(), ec.message()));
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        // Out of memory or a file system error we did not expect: say so, leave the boot alone.
        warn(fmt::format("Failed to generate the job units: {}", e.what()));
        return 0;
    }
}
