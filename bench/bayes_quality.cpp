// pmx-bench-bayes: trains the Bayes classifier on part of a labelled corpus and scores the
// rest; prints spam caught and ham misjudged at the probability cut-offs, and the learning and
// classifying speed next to the MIME parse of the same messages (the baseline).
//
//   pmx-bench-bayes [--train-percent N] [--seed TEXT] [--scores FILE] [--db FILE] [--threshold P]
//                   [--rules DIR|FILE]... --ham DIR... --spam DIR...
//
// With --rules, the held-out part is also scored by the rules engine (lib/spam/rules) with those
// rule files: "rules only" (score set 0, no Bayes) and "both" (score set 2: the BAYES_* rules turn
// the probability into points, once with their own scores, once on pmx's scale: bayes::score_hits,
// the default), spam when the score reaches the files' required_score.
//
// The split is deterministic: a message is in the training part when the hash of its name
// (the last three path components, e.g. "spamassassin-public/ham/00042.eml") modulo 100 is
// below N. Duplicates (same learn key, i.e. the same
// Message-ID) are counted once: the first seen wins, so a copy can never be trained on and then
// tested. --scores writes one line per held-out message (path, label, probability; with --rules
// also the rules-only score, the rules-and-Bayes score and that run's hits).
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "mail/mime.hpp"
#include "spam/bayes/bayes.hpp"
#include "spam/rules/rules.hpp"
#include "store/database.hpp"

namespace fs = std::filesystem;
using namespace pmx;
namespace bayes = pmx::spam::bayes;
using Clock = std::chrono::steady_clock;

namespace {

struct Item {
    fs::path path;
    bool spam = false;
    std::string raw;
};

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // an mbox envelope line first (the npm copy of the SpamAssassin corpus has them)
    if (s.starts_with("From ")) {
        auto nl = s.find('\n');
        s.erase(0, nl == std::string::npos ? s.size() : nl + 1);
    }
    return s;
}

void collect(const fs::path& dir, bool spam, std::vector<Item>& out) {
    std::vector<fs::path> files;
    for (const auto& e : fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink))
        if (e.is_regular_file() && e.path().filename().string()[0] != '.' && e.path().extension() != ".tsv")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (auto& f : files) out.push_back(Item{f, spam, {}});
}

double secs(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int usage() {
    fmt::print(stderr,
               "usage: pmx-bench-bayes [--train-percent N] [--seed TEXT] [--scores FILE] [--db FILE] [--threshold P] "
               "--ham DIR... --spam DIR...\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    int train_percent = 50;
    std::string seed;  // another split of the same corpus (to check tuning did not fit one split)
    double threshold = 0.6;
    fs::path scores_file, db_file;
    std::vector<fs::path> rule_paths;
    std::vector<Item> items;
    bool spam_dirs = false;
    bool any_dir = false;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw std::runtime_error("missing value after " + a);
            return argv[++i];
        };
        try {
            if (a == "--train-percent") train_percent = std::stoi(next());
            else if (a == "--threshold") threshold = std::stod(next());
            else if (a == "--scores") scores_file = next();
            else if (a == "--seed") seed = next();
            else if (a == "--db") db_file = next();
            else if (a == "--rules") rule_paths.push_back(next());
            else if (a == "--ham") spam_dirs = false;
            else if (a == "--spam") spam_dirs = true;
            else if (a == "-h" || a == "--help") return usage(), 0;
            else if (a.starts_with("-")) return usage();
            else {
                collect(a, spam_dirs, items);
                any_dir = true;
            }
        } catch (const std::exception& e) {
            fmt::print(stderr, "pmx-bench-bayes: {}\n", e.what());
            return 2;
        }
    }
    if (!any_dir || train_percent < 1 || train_percent > 99) return usage();

    // read, parse once for the key, drop duplicates
    std::set<std::string> keys;
    std::vector<Item> train, test;
    std::size_t duplicates = 0;
    for (auto& it : items) {
        it.raw = read(it.path);
        auto key = bayes::message_key(mail::parse_message(it.raw));
        if (!keys.insert(key).second) {
            ++duplicates;
            continue;
        }
        std::string name = seed + it.path.parent_path().parent_path().filename().string() + "/" +
                           it.path.parent_path().filename().string() + "/" + it.path.filename().string();
        (bayes::hash_token(name) % 100 < static_cast<unsigned>(train_percent) ? train : test).push_back(std::move(it));
    }
    auto count = [](const std::vector<Item>& v, bool spam) {
        return std::count_if(v.begin(), v.end(), [&](const Item& i) { return i.spam == spam; });
    };
    fmt::print("corpus: {} messages ({} duplicates dropped); training {} ({} spam, {} ham), held out {} ({} spam, {} ham)\n",
               train.size() + test.size(), duplicates, train.size(), count(train, true), count(train, false),
               test.size(), count(test, true), count(test, false));

    // a fresh database
    fs::path tmpdir;
    if (db_file.empty()) {
        char tmpl[] = "/tmp/pmx-bench-bayes-XXXXXX";
        tmpdir = mkdtemp(tmpl);
        db_file = tmpdir / "pmx.db";
    } else {
        fs::remove(db_file);
        fs::remove(db_file.string() + "-wal");
        fs::remove(db_file.string() + "-shm");
    }
    auto db = store::Database::open(db_file);
    if (!db) {
        fmt::print(stderr, "pmx-bench-bayes: {}\n", db.error().message);
        return 1;
    }

    // as `pmx spam learn` does: a page cache that holds a batch's changes
    if (auto r = db->exec("PRAGMA cache_size = -131072"); !r) return 1;

    // baseline: the MIME parse of the first 1000 training messages
    const std::size_t speed_n = std::min<std::size_t>(1000, train.size());
    auto t0 = Clock::now();
    std::size_t sink = 0;
    for (std::size_t i = 0; i < speed_n; ++i) sink += mail::parse_message(train[i].raw).text.size();
    const double parse_s = secs(Clock::now() - t0);

    // learning: what `pmx spam learn` does (parse, tokenize, learn), 500 per transaction
    auto learn_range = [&](std::size_t from, std::size_t to) -> bool {
        for (std::size_t b = from; b < to; b += 500) {
            auto tx = db->transaction();
            if (!tx) return fmt::print(stderr, "{}\n", tx.error().message), false;
            for (std::size_t i = b; i < std::min(to, b + 500); ++i) {
                auto m = mail::parse_message(train[i].raw);
                auto r = bayes::learn(*db, m, train[i].raw, train[i].spam ? bayes::Kind::Spam : bayes::Kind::Ham);
                if (!r) return fmt::print(stderr, "{}\n", r.error().message), false;
            }
            if (auto r = tx->commit(); !r) return fmt::print(stderr, "{}\n", r.error().message), false;
        }
        return true;
    };
    t0 = Clock::now();
    if (!learn_range(0, speed_n)) return 1;
    const double learn_s = secs(Clock::now() - t0);
    t0 = Clock::now();
    if (!learn_range(speed_n, train.size())) return 1;
    const double learn_rest_s = secs(Clock::now() - t0);

    fmt::print("learning: first {} messages in {:.2f} s = {:.0f} messages/s (MIME parse alone {:.2f} s, ratio {:.1f}); "
               "all {} in {:.2f} s\n",
               speed_n, learn_s, speed_n / learn_s, parse_s, learn_s / parse_s, train.size(), learn_s + learn_rest_s);

    // scoring the held-out part
    bayes::Settings settings;
    settings.min_spam = settings.min_ham = 1;
    std::vector<std::string> score_lines;  // --scores: one per held-out message, written at the end
    std::vector<double> spam_p, ham_p;
    t0 = Clock::now();
    auto snapshot = bayes::Snapshot::load(*db);
    if (!snapshot) {
        fmt::print(stderr, "{}\n", snapshot.error().message);
        return 1;
    }
    fmt::print("snapshot: {} tokens loaded in {:.0f} ms\n", (*snapshot)->size(), 1e3 * secs(Clock::now() - t0));
    double classify_s = 0, test_parse_s = 0, tokenize_s = 0, sql_s = 0;
    std::size_t token_total = 0;
    for (const auto& it : test) {
        auto a = Clock::now();
        auto m = mail::parse_message(it.raw);
        auto b = Clock::now();
        auto toks = bayes::tokenize(m);
        auto c = Clock::now();
        auto p = bayes::classify(**snapshot, toks, nullptr, "", settings);
        classify_s += secs(Clock::now() - b);
        tokenize_s += secs(c - b);
        token_total += toks.size();
        auto d = Clock::now();
        auto q = bayes::classify(*db, toks, "", settings);  // the SQL path, for comparison
        sql_s += secs(Clock::now() - d);
        if (!q || !p || q->value_or(-1) != p->value_or(-1)) {
            fmt::print(stderr, "pmx-bench-bayes: the SQL and snapshot paths disagree on {}\n", it.path.string());
            return 1;
        }
        test_parse_s += secs(b - a);
        if (!p) {
            fmt::print(stderr, "{}\n", p.error().message);
            return 1;
        }
        double v = p->value_or(0.5);
        (it.spam ? spam_p : ham_p).push_back(v);
        if (!scores_file.empty())
            score_lines.push_back(it.path.string() + '\t' + (it.spam ? "spam" : "ham") + '\t' + fmt::format("{:.6f}", v));
    }
    fmt::print("classifying: {:.0f} µs/message (tokenize {:.0f} + snapshot lookup and combine {:.0f}; {:.0f} tokens/message), "
               "MIME parse {:.0f} µs/message, ratio {:.2f}; the SQL lookup instead: {:.0f} µs/message\n",
               1e6 * classify_s / test.size(), 1e6 * tokenize_s / test.size(), 1e6 * (classify_s - tokenize_s) / test.size(),
               static_cast<double>(token_total) / test.size(), 1e6 * test_parse_s / test.size(), classify_s / test_parse_s,
               1e6 * sql_s / test.size());

    auto frac = [](const std::vector<double>& v, double cut) {
        return v.empty() ? 0.0 : 100.0 * std::count_if(v.begin(), v.end(), [&](double p) { return p >= cut; }) / v.size();
    };
    fmt::print("\n| Bayes probability at least | spam caught | ham misjudged |\n|---:|---:|---:|\n");
    std::vector<double> cuts = {0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99};
    if (std::find(cuts.begin(), cuts.end(), threshold) == cuts.end()) cuts.push_back(threshold);
    std::sort(cuts.begin(), cuts.end());
    for (double c : cuts)
        fmt::print("| {}{:.2f}{} | {:.2f}% | {:.2f}% |\n", c == threshold ? "**" : "", c, c == threshold ? "** (default)" : "",
                   frac(spam_p, c), frac(ham_p, c));
    const double caught = frac(spam_p, threshold), misjudged = frac(ham_p, threshold);
    fmt::print("\nBayes only at {:.2f}: {:.2f}% of {} spam caught, {:.2f}% of {} ham misjudged (target >= 97% and < 0.5%): {}\n",
               threshold, caught, spam_p.size(), misjudged, ham_p.size(),
               caught >= 97.0 && misjudged < 0.5 ? "met" : "NOT met");
    if (!rule_paths.empty()) {
        // The rules: once without Bayes (score set 0), once with (set 2), compiled databases cached.
        auto load = [&](bool with_bayes) {
            spam::rules::LoadOptions o;
            o.dirs = rule_paths;
            o.bayes_enabled = with_bayes;
            o.cache_dir = "/tmp/pmx-bench-rules-cache";
            return spam::rules::load_rules(o);
        };
        auto t_load = Clock::now();
        auto plain = load(false), with = load(true);
        if (!plain || !with) {
            fmt::print(stderr, "pmx-bench-bayes: {}\n", (!plain ? plain.error() : with.error()).message);
            return 1;
        }
        fmt::print("\nrules: {} runnable, {} unsupported, required_score {:.1f}, loaded in {:.1f} s\n",
                   (*plain)->rule_count(), (*plain)->unsupported().size(), (*plain)->required_score(),
                   secs(Clock::now() - t_load));
        const double required = (*plain)->required_score();
        std::size_t spam_n = 0, ham_n = 0, rules_spam = 0, rules_ham = 0, both_spam = 0, both_ham = 0, sa_spam = 0,
                    sa_ham = 0;
        const bayes::Settings pmx_scale;  // bayes.score_scale = "pmx" with its default points
        double rules_s = 0;
        std::size_t i_spam = 0, i_ham = 0, n_checked = 0;
        std::vector<double> both_spam_scores, both_ham_scores, sa_spam_scores, sa_ham_scores;
        for (const auto& it : test) {
            auto m = mail::parse_message(it.raw);
            const double p = it.spam ? spam_p[i_spam++] : ham_p[i_ham++];
            auto sum = [](const std::vector<spam::Hit>& hits) {
                double total = 0;
                for (const auto& h : hits) total += h.score;
                return total;
            };
            auto a = Clock::now();
            const double r = sum((*plain)->check({.message = m, .raw = it.raw, .bayes_probability = std::nullopt,
                                                  .external_hits = {}, .envelope_from = "", .uris = nullptr}));
            rules_s += secs(Clock::now() - a);
            const auto with_hits = (*with)->check({.message = m, .raw = it.raw, .bayes_probability = p,
                                                   .external_hits = {}, .envelope_from = "", .uris = nullptr});
            const double sa = sum(with_hits);  // the BAYES_* rules' own scores (score set 2)
            auto scaled = with_hits;
            bayes::score_hits(scaled, p, pmx_scale);  // what the scanner does by default
            const double b = sum(scaled);
            if (!score_lines.empty()) {
                std::string names;
                for (const auto& h : with_hits) names += (names.empty() ? "" : ",") + h.name + fmt::format("={:g}", h.score);
                score_lines[n_checked] += fmt::format("\t{:.3f}\t{:.3f}\t{:.3f}\t{}", r, sa, b, names);
            }
            ++n_checked;
            (it.spam ? spam_n : ham_n)++;
            (it.spam ? both_spam_scores : both_ham_scores).push_back(b);
            (it.spam ? sa_spam_scores : sa_ham_scores).push_back(sa);
            if (sa >= required) (it.spam ? sa_spam : sa_ham)++;
            if (r >= required) (it.spam ? rules_spam : rules_ham)++;
            if (b >= required) (it.spam ? both_spam : both_ham)++;
        }
        auto pct = [](std::size_t n, std::size_t of) { return of ? 100.0 * n / of : 0.0; };
        fmt::print("\n| scored by (held-out part, score >= {:.1f}) | spam caught | ham misjudged |\n|---|---:|---:|\n",
                   required);
        fmt::print("| rules only | {:.2f}% | {:.2f}% |\n", pct(rules_spam, spam_n), pct(rules_ham, ham_n));
        fmt::print("| Bayes only (probability >= {:.2f}) | {:.2f}% | {:.2f}% |\n", threshold, caught, misjudged);
        fmt::print("| rules and Bayes, SpamAssassin's BAYES_* scores | {:.2f}% | {:.2f}% |\n", pct(sa_spam, spam_n),
                   pct(sa_ham, ham_n));
        fmt::print("| **rules and Bayes, pmx's scale** (default) | {:.2f}% | {:.2f}% |\n", pct(both_spam, spam_n),
                   pct(both_ham, ham_n));
        fmt::print("rules: {:.0f} µs/message\n", 1e6 * rules_s / test.size());
        // Where a site would put its policy's spam_score threshold: the same scores at other cut-offs.
        fmt::print("\n| rules and Bayes, score at least | pmx's scale: spam caught | ham misjudged | "
                   "SpamAssassin's: spam caught | ham misjudged |\n|---:|---:|---:|---:|---:|\n");
        for (double cut : {2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0})
            fmt::print("| {:.1f} | {:.2f}% | {:.2f}% | {:.2f}% | {:.2f}% |\n", cut, frac(both_spam_scores, cut),
                       frac(both_ham_scores, cut), frac(sa_spam_scores, cut), frac(sa_ham_scores, cut));
        const bool met = pct(both_spam, spam_n) >= 97.0 && pct(both_ham, ham_n) < 0.5;
        fmt::print("rules and Bayes (pmx's scale): target >= 97% and < 0.5%: {}\n", met ? "met" : "NOT met");
    }
    if (!scores_file.empty()) {
        std::ofstream scores(scores_file);
        scores << "path\tlabel\tbayes_probability" << (rule_paths.empty() ? "" : "\trules_score\tboth_score_sa\tboth_score\thits") << '\n';
        for (const auto& l : score_lines) scores << l << '\n';
    }
    // tuning: PMX_BENCH_PARAMS="s,x,min_strength,max_tokens;..." scores the held-out part again with each
    if (const char* sets = std::getenv("PMX_BENCH_PARAMS")) {
        std::vector<bayes::Token> none;
        std::vector<std::vector<bayes::Token>> toks;
        for (const auto& it : test) toks.push_back(bayes::tokenize(mail::parse_message(it.raw)));
        std::string all = sets;
        for (std::size_t pos = 0; pos < all.size();) {
            auto end = all.find(';', pos);
            std::string one = all.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
            pos = end == std::string::npos ? all.size() : end + 1;
            bayes::Params p;
            std::size_t maxt = 150;
            if (std::sscanf(one.c_str(), "%lf,%lf,%lf,%zu", &p.strength, &p.prior, &p.min_strength, &maxt) != 4) continue;
            p.max_tokens = maxt;
            std::vector<double> sp, hp;
            for (std::size_t i = 0; i < test.size(); ++i) {
                auto r = bayes::classify(*db, toks[i], "", settings, p);
                (test[i].spam ? sp : hp).push_back(r && *r ? **r : 0.5);
            }
            std::string line = fmt::format("params {}: spam caught/ham misjudged at", one);
            for (double c : {0.5, 0.6, 0.7, 0.8, 0.9, 0.95}) line += fmt::format("  {} {:.2f}/{:.2f}", c, frac(sp, c), frac(hp, c));
            fmt::print("{}\n", line);
        }
    }
    if (!tmpdir.empty()) fs::remove_all(tmpdir);
    return sink == 0 ? 1 : 0;
}
