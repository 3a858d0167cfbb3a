// Scheduled jobs: jobs.toml (vendor file, admin file, drop-ins) read into Job values.
// The generator (daemons/jobs-generator) turns each valid job into a .service and a .timer;
// `pmx jobs` reads the same files. An invalid job is skipped with a problem that names
// file:line:column and the key; the other jobs are unaffected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pmx::jobs {

struct Job {
    std::string name;                  // [job.NAME]
    std::string description;           // "" reads as the name
    std::vector<std::string> command;  // {"pmx", "db", "maintain"} or {"program-in-libexec", ...}
    std::vector<std::string> at;       // systemd calendar expressions (OnCalendar=)
    bool enabled = true;
    std::string randomized_delay;      // systemd time span; "": none
    bool persistent = false;           // catch up a run missed while the machine was down
    std::string timeout = "1h";        // systemd time span or "infinity"
    std::string on_failure = "log";    // "log" | "mail": also mail jobs.failure_mail_to (OnFailure=)
    std::vector<std::string> files;    // files that set a key of this job, in merge order
};

struct LoadResult {
    std::vector<Job> jobs;              // valid jobs, by name
    std::vector<std::string> problems;  // "file:line:column: job.NAME.key: reason", in file order
    std::vector<std::string> files;     // files read, in merge order
};

// Where the job files live: the config layout's folders (PMX_CONFIG_DIR, PMX_VENDOR_DIR).
struct Layout {
    std::filesystem::path vendor_dir;  // /usr/share/pmx
    std::filesystem::path config_dir;  // /etc/pmx

    static Layout from_environment();

    std::filesystem::path vendor_file() const { return vendor_dir / "jobs.toml"; }
    std::filesystem::path admin_file() const { return config_dir / "jobs.toml"; }
    std::filesystem::path dropin_dir() const { return config_dir / "jobs.toml.d"; }
    // The drop-in `pmx jobs` edits write; hand edits belong elsewhere.
    std::filesystem::path own_dropin() const { return dropin_dir() / "90-pmx-jobs.toml"; }

    // The files that exist, in merge order (later files override single keys of a job).
    std::vector<std::filesystem::path> files() const;
};

// A file to read, or (second set) text standing in for it (to check an edit before writing).
using Input = std::pair<std::string, std::optional<std::string>>;

LoadResult load(const std::vector<Input>& inputs);
LoadResult load(const Layout& layout);
// The layout's files with text in place of one of them (added in name order when new).
LoadResult load_with(const Layout& layout, const std::filesystem::path& replaced, const std::string& text);

const Job* find(const LoadResult& r, std::string_view name);

// Checks that need no other process. "" when fine, else the reason.
std::string check_name(std::string_view name);
std::string check_command(const std::vector<std::string>& command);
std::string check_calendar_syntax(std::string_view expression);  // light: systemd-analyze calendar decides
std::string check_timespan(std::string_view span, bool allow_infinity);

// "pmx db maintain": the command for people (words with blanks quoted).
std::string command_text(const std::vector<std::string>& command);
// Splits a command line the way `pmx jobs add --command` takes it: blanks separate words,
// '...' and "..." group. Error text in *error.
std::vector<std::string> split_command(std::string_view text, std::string* error);

// The generated unit names.
std::string service_unit(std::string_view job);  // pmx-job-NAME.service
std::string timer_unit(std::string_view job);    // pmx-job-NAME.timer
inline constexpr const char* kSchedulerTarget = "pmx-scheduler.target";
// The template the generator writes for failure mails, and its instance for one job
// (OnFailure= of a job with on_failure = "mail"): runs `pmx jobs notify-failure NAME`.
inline constexpr const char* kFailureMailTemplate = "pmx-failure-mail@.service";
std::string failure_mail_unit(std::string_view job);  // pmx-failure-mail@NAME.service
// NAME from pmx-job-NAME.service / .timer; "" when it is not a job unit.
std::string job_of_unit(std::string_view unit);

}  // namespace pmx::jobs
