// Runs the `pmx` CLI for admin RPC methods, so the web and the CLI share one implementation and
// can never disagree (the reports match the CLI's numbers because they are the CLI's numbers).
// argv only, never a shell; --user added when the environment uses the user manager; --json added
// by the caller where the command offers it. Output is capped and the run has a deadline.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "web/environment.hpp"
#include "util/result.hpp"

namespace pmx::web {

struct CliRun {
    int exit_code = 0;
    std::string out;  // stdout (capped at 16 MiB)
    std::string err;  // stderr (capped at 1 MiB)
};

// Error only when the command could not run or exceeded the deadline (it is then killed).
Result<CliRun> run_pmx(const Environment& env, const std::vector<std::string>& args,
                       std::chrono::milliseconds deadline = std::chrono::seconds(120));

}  // namespace pmx::web
