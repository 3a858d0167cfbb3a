// pmx ipblock test|list|add|remove|stats (pmx-ipblockd).
#include "commands.hpp"

namespace pmx::cli {

void add_ipblock_commands(CLI::App& app, Context& ctx) {
    (void)app;
    (void)ctx;
}

}  // namespace pmx::cli
