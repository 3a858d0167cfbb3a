// pmx spam learn --spam|--ham PATH..., pmx spam forget: training the Bayes classifier.
#include "commands.hpp"

namespace pmx::cli {

void add_spam_learn_commands(CLI::App& spam, Context& ctx) {
    (void)spam;
    (void)ctx;
}

}  // namespace pmx::cli
