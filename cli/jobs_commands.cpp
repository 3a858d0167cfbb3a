// pmx scheduler start|stop|status; jobs list|show|run|enable|disable|set|add|remove|check.
#include "commands.hpp"

namespace pmx::cli {

void add_jobs_commands(CLI::App& app, Context& ctx) {
    (void)app;
    (void)ctx;
}

}  // namespace pmx::cli
