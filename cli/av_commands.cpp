// pmx av scan|status (pmx-avd).
#include "commands.hpp"

namespace pmx::cli {

void add_av_commands(CLI::App& app, Context& ctx) {
    (void)app;
    (void)ctx;
}

}  // namespace pmx::cli
