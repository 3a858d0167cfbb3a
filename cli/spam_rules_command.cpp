// pmx spam rules [--unsupported] [--type T] [--rules DIR]... [--json]: the loaded
// SpamAssassin-format rules with their scores and descriptions, or those the engine cannot run
// and why.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "spam/rules/options.hpp"
#include "spam/rules/rules.hpp"

namespace pmx::cli {

namespace {

struct RulesArgs {
    bool unsupported = false;
    std::string type;
    std::vector<std::string> dirs;
    bool bayes = false;
};

std::string score_text(double s) {
    std::string t = fmt::format("{:.3f}", s);
    while (t.size() > 1 && t.back() == '0') t.pop_back();
    if (!t.empty() && t.back() == '.') t.pop_back();
    return t;
}

void run_rules(const RulesArgs& a, Context& ctx) {
    static const char* const types[] = {"header", "body", "rawbody", "full", "uri", "mimeheader", "meta"};
    if (!a.type.empty() && std::find(std::begin(types), std::end(types), a.type) == std::end(types))
        throw CommandError(fmt::format("Unknown rule type '{}': header, body, rawbody, full, uri, mimeheader or meta",
                                       a.type),
                           2);
    spam::rules::LoadOptions opts;
    if (a.dirs.empty()) {
        auto layout = config::Layout::from_environment();
        auto snap = config::load(layout);
        if (!snap) throw CommandError(fmt::format("Failed to load the configuration:\n{}", snap.error().message));
        opts = spam::rules::load_options(*snap, layout);
        // Listing needs no compiled databases: do not create the cache directory as this user.
        std::error_code ec;
        if (!std::filesystem::exists(opts.cache_dir, ec)) opts.cache_dir.clear();
    } else {
        for (const auto& d : a.dirs) opts.dirs.emplace_back(d);
        opts.bayes_enabled = a.bayes;
    }
    auto rs = spam::rules::load_rules(opts);
    if (!rs) throw CommandError(fmt::format("Failed to load the spam rules: {}", rs.error().message));
    const auto& set = **rs;

    if (a.unsupported) {
        const auto& u = set.unsupported();
        if (ctx.json) {
            std::string out = fmt::format("{{\"count\": {}, \"unsupported\": [", u.size());
            for (std::size_t i = 0; i < u.size(); ++i)
                out += fmt::format("{}\n {{\"name\": {}, \"source\": {}, \"reason\": {}}}", i ? "," : "",
                                   json_quote(u[i].name), json_quote(u[i].source), json_quote(u[i].reason));
            fmt::print("{}]}}\n", out);
            return;
        }
        Table t({"RULE", "WHERE", "REASON"});
        for (const auto& x : u) t.add({x.name.empty() ? "-" : x.name, x.source, x.reason});
        if (!u.empty()) fmt::print("{}", t.render());
        if (!ctx.quiet) fmt::print("{} rule{} or line{} the engine cannot run\n", u.size(), u.size() == 1 ? "" : "s",
                                   u.size() == 1 ? "" : "s");
        return;
    }

    std::vector<spam::rules::RuleInfo> rules;
    for (auto& r : set.rules())
        if (a.type.empty() || a.type == spam::rules::type_name(r.type)) rules.push_back(std::move(r));
    if (ctx.json) {
        std::string out = fmt::format("{{\"count\": {}, \"unsupported\": {}, \"required_score\": {}, \"rules\": [",
                                      rules.size(), set.unsupported().size(), set.required_score());
        for (std::size_t i = 0; i < rules.size(); ++i) {
            const auto& r = rules[i];
            out += fmt::format("{}\n {{\"name\": {}, \"type\": \"{}\", \"score\": {}, \"description\": {}, "
                               "\"tflags\": {}, \"eval\": {}, \"source\": {}}}",
                               i ? "," : "", json_quote(r.name), spam::rules::type_name(r.type), r.score,
                               json_quote(r.description), json_quote(r.tflags), r.is_eval ? "true" : "false",
                               json_quote(r.source));
        }
        fmt::print("{}]}}\n", out);
        return;
    }
    Table t({"RULE", "TYPE", "SCORE", "DESCRIPTION"});
    for (const auto& r : rules)
        t.add({r.name, spam::rules::type_name(r.type), score_text(r.score), printable(r.description)});
    if (!rules.empty()) fmt::print("{}", t.render());
    if (!ctx.quiet)
        fmt::print("{} rule{}{} from {} file{}; {} unsupported (--unsupported lists them); required score {}\n",
                   rules.size(), rules.size() == 1 ? "" : "s", a.type.empty() ? "" : " of type " + a.type,
                   set.files_read(), set.files_read() == 1 ? "" : "s", set.unsupported().size(),
                   score_text(set.required_score()));
}

}  // namespace

void add_spam_rules_command(CLI::App& spam, Context& ctx) {
    static RulesArgs args;
    auto* cmd = spam.add_subcommand("rules", "List the SpamAssassin-format rules, their scores and descriptions");
    cmd->add_flag("--unsupported", args.unsupported, "List the rules the engine cannot run, with the reason");
    cmd->add_option("--type", args.type, "Only rules of this type: header, body, rawbody, full, uri, mimeheader, meta");
    cmd->add_option("--rules", args.dirs,
                    "Read this rule directory or file instead of spam.rule_dirs and spam.admin_rules (repeatable)");
    cmd->add_flag("--bayes", args.bayes, "With --rules: show the scores used when Bayes is on");
    cmd->add_flag("--json", ctx.json, "Print JSON");
    cmd->callback([&ctx] { run_rules(args, ctx); });
}

}  // namespace pmx::cli
