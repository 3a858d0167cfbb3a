// pmx spam: check (score a message and explain it), rules (spam_rules_command.cpp),
// learn and forget (spam_learn_commands.cpp).
#include "commands.hpp"

namespace pmx::cli {

void add_spam_commands(CLI::App& app, Context& ctx) {
    auto* spam = app.add_subcommand("spam", "Anti-spam engine: check messages, list rules, train Bayes");
    spam->require_subcommand(1);
    add_spam_rules_command(*spam, ctx);
    add_spam_learn_commands(*spam, ctx);
}

}  // namespace pmx::cli
