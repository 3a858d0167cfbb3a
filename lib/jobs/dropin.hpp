// pmx's own jobs drop-in (jobs.toml.d/90-pmx-jobs.toml): what `pmx jobs enable|disable|set|add|
// remove` change. Files an admin edits by hand are never rewritten.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace pmx::jobs {

struct Edit {
    std::string job;
    bool remove = false;  // drop the job's table from the drop-in
    std::optional<std::string> description;
    std::optional<std::vector<std::string>> command;
    std::optional<std::vector<std::string>> at;
    std::optional<bool> enabled;
    std::optional<std::string> randomized_delay;  // "" removes the key
    std::optional<bool> persistent;
    std::optional<std::string> timeout;
    std::optional<std::string> on_failure;  // "log" | "mail"
};

// The drop-in's new text: current_text (empty: no file yet) with the edit applied, keys of
// other jobs untouched. Error when current_text is not valid TOML.
Result<std::string> apply_edit(const std::string& current_text, const Edit& edit);

// True when the drop-in's text defines a table for this job.
bool dropin_has_job(const std::string& text, const std::string& job);

}  // namespace pmx::jobs
