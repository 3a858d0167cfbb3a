// pmx-bench-rules: loads SpamAssassin-format rules and checks message files, printing the rules
// each one hits, for bench/spamassassin-compare.sh.
//
//   pmx-bench-rules [--bayes] [--all] [--list-rules] [--repeat N] [--quiet] [--cache DIR] --rules DIR [--rules DIR ...] FILE...
//
// Output: one line per file, "FILE<TAB>RULE,RULE,..." (--all: sub-rules and zero scores too),
// then on stderr the load time, the rule counts and messages per second of check() alone.
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mail/mime.hpp"
#include "spam/rules/rules.hpp"

int main(int argc, char** argv) {
    using namespace pmx;
    spam::rules::LoadOptions opts;
    std::vector<std::string> files;
    bool all = false, quiet = false, list = false;
    int repeat = 1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--rules" && i + 1 < argc) opts.dirs.emplace_back(argv[++i]);
        else if (a == "--bayes") opts.bayes_enabled = true;
        else if (a == "--cache" && i + 1 < argc) opts.cache_dir = argv[++i];
        else if (a == "--all") all = true;
        else if (a == "--list-rules") list = true;
        else if (a == "--quiet") quiet = true;
        else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
        else if (a == "--help" || a == "-h") {
            fmt::print("usage: pmx-bench-rules [--bayes] [--all] [--list-rules] [--repeat N] [--quiet] [--cache DIR] --rules DIR... FILE...\n");
            return 0;
        } else files.push_back(a);
    }
    if (opts.dirs.empty()) {
        fmt::print(stderr, "pmx-bench-rules: --rules DIR is required\n");
        return 2;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto rs = spam::rules::load_rules(opts);
    if (!rs) {
        fmt::print(stderr, "pmx-bench-rules: {}\n", rs.error().message);
        return 1;
    }
    auto t1 = std::chrono::steady_clock::now();
    const auto& set = **rs;
    fmt::print(stderr, "loaded {} rules from {} files in {:.2f} s; {} unsupported; {} patterns in vectorscan, {} PCRE2 only\n",
               set.rule_count(), set.files_read(), std::chrono::duration<double>(t1 - t0).count(),
               set.unsupported().size(), set.vectorscan_patterns(), set.pcre_only_patterns());

    if (list) {
        // NAME<TAB>TYPE<TAB>EVAL(0/1)<TAB>SCORE
        for (const auto& r : set.rules())
            fmt::print("{}\t{}\t{}\t{}\n", r.name, spam::rules::type_name(r.type), r.is_eval ? 1 : 0, r.score);
        return 0;
    }
    std::vector<std::string> raws;
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::ostringstream ss;
        ss << in.rdbuf();
        raws.push_back(ss.str());
    }
    double check_seconds = 0;
    for (int r = 0; r < repeat; ++r) {
        for (std::size_t i = 0; i < raws.size(); ++i) {
            auto s = std::chrono::steady_clock::now();
            auto msg = mail::parse_message(raws[i]);
            spam::rules::CheckInput in{msg, raws[i], std::nullopt, {}, {}};
            std::vector<std::string> names;
            if (all) names = set.check_all_names(in);
            else
                for (auto& h : set.check(in)) names.push_back(h.name);
            check_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - s).count();
            if (r == 0 && !quiet) {
                std::string joined;
                for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
                fmt::print("{}\t{}\n", files[i], joined);
            }
        }
    }
    std::size_t n = raws.size() * static_cast<std::size_t>(repeat);
    fmt::print(stderr, "checked {} messages in {:.3f} s: {:.1f} msg/s (parse + rules, one thread)\n", n, check_seconds,
               check_seconds > 0 ? static_cast<double>(n) / check_seconds : 0.0);
    return 0;
}
