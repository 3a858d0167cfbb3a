// pmx spam rules [--unsupported]: the loaded SpamAssassin-format rules.
#include "commands.hpp"

namespace pmx::cli {

void add_spam_rules_command(CLI::App& spam, Context& ctx) {
    (void)spam;
    (void)ctx;
}

}  // namespace pmx::cli
