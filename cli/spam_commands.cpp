// pmx spam check|learn|forget|rules.
#include "commands.hpp"

namespace pmx::cli {

void add_spam_commands(CLI::App& app, Context& ctx) {
    (void)app;
    (void)ctx;
}

}  // namespace pmx::cli
