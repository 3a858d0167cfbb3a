// pmx spam learn --spam|--ham PATH..., pmx spam forget PATH..., pmx spam bayes (what is
// learned), pmx spam expire-tokens: training the Bayes classifier (lib/spam/bayes).
//
// PATHs are message files, directories of them (read recursively, in name order), mbox files
// (a first line starting with "From ") and Maildirs (cur/ and new/). Learning runs in big
// transactions (one per few hundred messages) so a thousand messages take seconds; a running
// milter sees the new counts from its next message.
#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "commands.hpp"
#include "config/loader.hpp"
#include "mail/mime.hpp"
#include "message_input.hpp"
#include "output.hpp"
#include "spam/bayes/bayes.hpp"
#include "store/lists_store.hpp"
#include "store/store_config.hpp"

namespace pmx::cli {

namespace {

namespace fs = std::filesystem;
namespace bayes = spam::bayes;

constexpr std::uintmax_t max_message_bytes = 32u << 20;  // larger messages are skipped
constexpr std::size_t batch_messages = 500;              // messages per transaction
constexpr auto batch_time = std::chrono::seconds(2);     // or this long, whichever first

struct Env {
    config::Snapshot snapshot;
    bayes::Settings settings;
    store::Database db;
};

Env open_env() {
    auto snapshot = config::load(config::Layout::from_environment());
    if (!snapshot) throw CommandError(fmt::format("Configuration is invalid:\n{}", snapshot.error().message));
    auto settings = bayes::settings_from(*snapshot);
    if (!settings) throw CommandError(settings.error().message);
    auto db = store::Database::open(store::store_paths(*snapshot).database);
    if (!db) throw CommandError(db.error().message);
    // A page cache that holds a batch's changed token pages, so each is written once per
    // commit instead of spilled again and again (SQLite's default is 2 MiB).
    if (auto r = db->exec("PRAGMA cache_size = -131072"); !r) throw CommandError(r.error().message);
    return Env{std::move(*snapshot), *settings, std::move(*db)};
}

std::string owner_arg(const std::string& user) {
    if (user.empty()) return {};
    auto o = store::normalize_owner(user);
    if (!o) throw CommandError(o.error().message, 2);
    return *o;
}

// ---- Where messages come from ----------------------------------------------------------

struct Source {
    std::string name;  // file, or file:N for the Nth message of an mbox
    std::string raw;
};

using Visit = std::function<void(Source&&)>;
using Skip = std::function<void(const std::string& name, const std::string& reason)>;

// A file is an mbox when its first line is an envelope "From " line; it may hold one message
// (as the public corpora's files do) or many.
void read_mbox(const fs::path& path, std::ifstream& in, const Visit& visit, const Skip& skip) {
    std::string line, current;
    std::size_t index = 0;
    bool prev_blank = true, too_big = false;
    auto flush = [&] {
        if (index > 0) {
            std::string name = fmt::format("{}:{}", path.string(), index);
            if (too_big) skip(name, "too large");
            else if (current.empty()) skip(name, "empty");
            else visit(Source{name, std::move(current)});
        }
        current.clear();
        too_big = false;
    };
    while (std::getline(in, line)) {
        if (line.starts_with("From ") && prev_blank) {
            flush();
            ++index;
            prev_blank = false;
            continue;
        }
        prev_blank = line.empty() || line == "\r";
        if (too_big) continue;
        // mboxrd: ">From " (any number of ">") lost one ">" when it was written
        std::string_view l = line;
        if (l.starts_with(">")) {
            auto k = l.find_first_not_of('>');
            if (k != std::string_view::npos && l.substr(k).starts_with("From ")) l.remove_prefix(1);
        }
        if (current.size() + l.size() + 1 > max_message_bytes) {
            too_big = true;
            current.clear();
            continue;
        }
        current.append(l);
        current += '\n';
    }
    flush();
}

void read_file(const fs::path& path, const Visit& visit, const Skip& skip) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) return skip(path.string(), fmt::format("unreadable: {}", ec.message()));
    std::ifstream in(path, std::ios::binary);
    if (!in) return skip(path.string(), "unreadable: cannot open");
    char head[5] = {};
    in.read(head, 5);
    const bool mbox = in.gcount() == 5 && std::string_view(head, 5) == "From ";
    in.clear();
    in.seekg(0);
    if (mbox) return read_mbox(path, in, visit, skip);
    if (size == 0) return skip(path.string(), "empty");
    if (size > max_message_bytes) return skip(path.string(), "too large");
    std::string raw(size, '\0');
    in.read(raw.data(), static_cast<std::streamsize>(size));
    raw.resize(static_cast<std::size_t>(in.gcount()));
    visit(Source{path.string(), std::move(raw)});
}

bool is_maildir(const fs::path& dir) {
    std::error_code ec;
    return fs::is_directory(dir / "cur", ec) && fs::is_directory(dir / "new", ec);
}

// Files of a directory tree in name order; dot files (and Maildir's tmp/) left out.
std::vector<fs::path> files_under(const fs::path& dir, const Skip& skip) {
    std::vector<fs::path> out;
    std::error_code ec;
    std::vector<fs::path> roots;
    if (is_maildir(dir)) roots = {dir / "cur", dir / "new"};
    else roots = {dir};
    for (const auto& root : roots) {
        fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
        if (ec) {
            skip(root.string(), fmt::format("unreadable: {}", ec.message()));
            continue;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            const auto& name = it->path().filename().string();
            if (!name.empty() && name[0] == '.') {
                if (it->is_directory(ec)) it.disable_recursion_pending();
                continue;
            }
            if (it->is_directory(ec) && name == "tmp" && is_maildir(it->path().parent_path())) {
                it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file(ec)) out.push_back(it->path());
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

// The files to read, in order (a directory counts its files up front so progress has a total).
std::vector<fs::path> expand(const std::vector<std::string>& paths, const Skip& skip) {
    std::vector<fs::path> files;
    for (const auto& p : paths) {
        std::error_code ec;
        auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) throw CommandError(fmt::format("Failed to read {}: no such file or directory", p));
        if (fs::is_directory(st)) {
            auto f = files_under(p, skip);
            files.insert(files.end(), f.begin(), f.end());
        } else {
            files.emplace_back(p);
        }
    }
    return files;
}

// ---- Progress --------------------------------------------------------------------------

class Progress {
public:
    Progress(bool show, std::size_t total) : show_(show), total_(total), start_(std::chrono::steady_clock::now()) {}

    void tick(std::size_t files_done, std::size_t messages) {
        if (!show_) return;
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(100) && files_done < total_) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double frac = total_ ? static_cast<double>(files_done) / static_cast<double>(total_) : 1.0;
        constexpr int width = 30;
        const int filled = static_cast<int>(frac * width);
        fmt::print(stderr, "\r[{}{}] {:3.0f}%  {} messages  {:.0f}/s ", std::string(filled, '#'),
                   std::string(width - filled, '.'), frac * 100, messages, secs > 0 ? messages / secs : 0.0);
        std::fflush(stderr);
        drawn_ = true;
    }
    void done() {
        if (drawn_) fmt::print(stderr, "\r\033[K");
        drawn_ = false;
    }

private:
    bool show_;
    std::size_t total_;
    std::chrono::steady_clock::time_point start_, last_{};
    bool drawn_ = false;
};

bool progress_wanted(const Context& ctx) { return !ctx.quiet && isatty(STDERR_FILENO); }

// ---- learn and forget ------------------------------------------------------------------

struct Tally {
    std::size_t learned = 0, known = 0, relearned = 0, forgotten = 0, not_learned = 0;
    std::map<std::string, std::size_t> skipped;  // reason → count
    std::vector<std::pair<std::string, std::string>> skipped_examples;  // first few: name, reason
    double seconds = 0;
    std::size_t messages() const { return learned + known + relearned + forgotten + not_learned; }
    std::size_t skipped_total() const {
        std::size_t n = 0;
        for (const auto& [r, c] : skipped) n += c;
        return n;
    }
};

// Reads every message of the paths and hands it to `each` inside batched transactions.
void run_over(Env& env, const std::vector<std::string>& paths, Context& ctx, Tally& tally,
              const std::function<void(const mail::ParsedMessage&, const std::string& name)>& each) {
    Skip skip = [&](const std::string& name, const std::string& reason) {
        // the reason's kind ("unreadable") groups; the example keeps the detail
        auto key = reason.substr(0, reason.find(':'));
        ++tally.skipped[key];
        if (tally.skipped_examples.size() < 5) tally.skipped_examples.emplace_back(name, reason);
    };
    auto files = expand(paths, skip);
    const auto limits = parse_limits(env.snapshot);
    Progress progress(progress_wanted(ctx), files.size());
    const auto start = std::chrono::steady_clock::now();

    std::optional<store::Transaction> tx;
    std::size_t in_batch = 0;
    auto batch_start = start;
    auto commit = [&] {
        if (!tx) return;
        if (auto r = tx->commit(); !r) throw CommandError(r.error().message);
        tx.reset();
        in_batch = 0;
    };
    Visit visit = [&](Source&& src) {
        if (!tx) {
            auto t = env.db.transaction();
            if (!t) throw CommandError(t.error().message);
            tx.emplace(std::move(*t));
            batch_start = std::chrono::steady_clock::now();
        }
        auto m = mail::parse_message(src.raw, limits);  // as the milter parses, so the tokens match
        if (m.headers.empty()) return skip(src.name, "no headers");
        each(m, src.name);
        if (++in_batch >= batch_messages || std::chrono::steady_clock::now() - batch_start > batch_time) commit();
    };
    for (std::size_t i = 0; i < files.size(); ++i) {
        read_file(files[i], visit, skip);
        progress.tick(i + 1, tally.messages());
    }
    commit();
    progress.done();
    tally.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void print_skipped(const Tally& t) {
    for (const auto& [name, reason] : t.skipped_examples) fmt::print(stderr, "pmx: skipped {}: {}\n", name, reason);
    if (t.skipped_total() > t.skipped_examples.size())
        fmt::print(stderr, "pmx: ... and {} more skipped\n", t.skipped_total() - t.skipped_examples.size());
}

std::string skipped_json(const Tally& t) {
    std::string out = "{";
    for (const auto& [reason, n] : t.skipped) out += fmt::format("{}{}:{}", out.size() > 1 ? "," : "", json_quote(reason), n);
    return out + "}";
}

std::string skipped_text(const Tally& t) {
    if (t.skipped.empty()) return "0 skipped";
    std::string reasons;
    for (const auto& [reason, n] : t.skipped) reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ", n, reason);
    return fmt::format("{} skipped ({})", t.skipped_total(), reasons);
}

struct LearnArgs {
    bool spam = false, ham = false;
    std::string user;
    std::vector<std::string> paths;
};

void learn(Context& ctx, const LearnArgs& a) {
    const auto kind = a.spam ? bayes::Kind::Spam : bayes::Kind::Ham;
    const auto owner = owner_arg(a.user);
    auto env = open_env();
    Tally t;
    run_over(env, a.paths, ctx, t, [&](const mail::ParsedMessage& m, const std::string&) {
        auto r = bayes::learn(env.db, m, {}, kind, owner);
        if (!r) throw CommandError(r.error().message);
        switch (*r) {
            case bayes::LearnOutcome::Learned: ++t.learned; break;
            case bayes::LearnOutcome::AlreadyKnown: ++t.known; break;
            case bayes::LearnOutcome::Relearned: ++t.relearned; break;
        }
    });
    const double rate = t.seconds > 0 ? static_cast<double>(t.messages()) / t.seconds : 0.0;
    if (ctx.json) {
        fmt::print("{{\"kind\":{},\"owner\":{},\"learned\":{},\"already_known\":{},\"relearned\":{},\"skipped\":{},"
                   "\"skipped_reasons\":{},\"seconds\":{:.3f},\"messages_per_second\":{:.1f}}}\n",
                   json_quote(bayes::kind_name(kind)), json_quote(owner), t.learned, t.known, t.relearned,
                   t.skipped_total(), skipped_json(t), t.seconds, rate);
    } else if (!ctx.quiet) {
        print_skipped(t);
        fmt::print("{} message{} as {}{}: {} learned, {} already known, {} relearned (were {}), {}; {:.1f} s, {:.0f} messages/s\n",
                   t.messages(), t.messages() == 1 ? "" : "s", bayes::kind_name(kind),
                   owner.empty() ? "" : fmt::format(" for {}", owner), t.learned, t.known, t.relearned,
                   bayes::kind_name(kind == bayes::Kind::Spam ? bayes::Kind::Ham : bayes::Kind::Spam),
                   skipped_text(t), t.seconds, rate);
    }
    if (t.messages() == 0 && t.skipped_total() > 0) ctx.exit_code = 1;
}

struct ForgetArgs {
    std::string user;
    std::vector<std::string> paths;
};

void forget(Context& ctx, const ForgetArgs& a) {
    const auto owner = owner_arg(a.user);
    auto env = open_env();
    Tally t;
    run_over(env, a.paths, ctx, t, [&](const mail::ParsedMessage& m, const std::string&) {
        auto r = bayes::forget(env.db, m, owner);
        if (!r) throw CommandError(r.error().message);
        ++(*r ? t.forgotten : t.not_learned);
    });
    if (ctx.json) {
        fmt::print("{{\"owner\":{},\"forgotten\":{},\"not_learned\":{},\"skipped\":{},\"skipped_reasons\":{},"
                   "\"seconds\":{:.3f}}}\n",
                   json_quote(owner), t.forgotten, t.not_learned, t.skipped_total(), skipped_json(t), t.seconds);
    } else if (!ctx.quiet) {
        print_skipped(t);
        fmt::print("Forgot {} message{}{}; {} had not been learned, {}\n", t.forgotten, t.forgotten == 1 ? "" : "s",
                   owner.empty() ? "" : fmt::format(" of {}", owner), t.not_learned, skipped_text(t));
    }
    if (t.messages() == 0 && t.skipped_total() > 0) ctx.exit_code = 1;
}

// ---- what is learned, expiry -----------------------------------------------------------

void show_stats(Context& ctx) {
    auto env = open_env();
    auto s = bayes::stats(env.db);
    if (!s) throw CommandError(s.error().message);
    const auto& global = s->owners.front();
    auto ready = [&](const bayes::OwnerStats& o) {
        std::int64_t spam = o.spam_messages, ham = o.ham_messages;
        if (!o.owner.empty()) {
            spam += global.spam_messages;
            ham += global.ham_messages;
        }
        return spam >= env.settings.min_spam && ham >= env.settings.min_ham;
    };
    if (ctx.json) {
        std::string owners;
        for (const auto& o : s->owners)
            owners += fmt::format("{}{{\"owner\":{},\"spam_messages\":{},\"ham_messages\":{},\"tokens\":{},\"ready\":{},"
                                  "\"last_learn_us\":{},\"last_expire_us\":{}}}",
                                  owners.empty() ? "" : ",\n ", json_quote(o.owner), o.spam_messages, o.ham_messages,
                                  o.tokens, ready(o) ? "true" : "false", o.last_learn_us, o.last_expire_us);
        fmt::print("{{\"enabled\":{},\"per_user\":{},\"min_spam\":{},\"min_ham\":{},\"tokens\":{},\"owners\":[{}]}}\n",
                   env.settings.enabled ? "true" : "false", env.settings.per_user ? "true" : "false",
                   env.settings.min_spam, env.settings.min_ham, s->tokens, owners);
        return;
    }
    Table table({"OWNER", "SPAM", "HAM", "TOKENS", "READY", "LAST LEARNED", "LAST EXPIRED"});
    for (const auto& o : s->owners)
        table.add({o.owner.empty() ? "(global)" : printable(o.owner), std::to_string(o.spam_messages),
                   std::to_string(o.ham_messages), std::to_string(o.tokens), ready(o) ? "yes" : "no",
                   format_timestamp_usec(static_cast<unsigned long long>(o.last_learn_us)),
                   format_timestamp_usec(static_cast<unsigned long long>(o.last_expire_us))});
    fmt::print("{}", table.render());
    fmt::print("\nBayes is {}{}; it answers once {} spam and {} ham messages are learned (bayes.min_spam, "
               "bayes.min_ham). {} tokens in all.\n",
               env.settings.enabled ? "enabled" : "disabled (bayes.enabled)",
               env.settings.per_user ? ", per user (bayes.per_user)" : "", env.settings.min_spam,
               env.settings.min_ham, s->tokens);
}

void expire_tokens(Context& ctx, std::int64_t days) {
    auto env = open_env();
    if (days <= 0) days = env.settings.token_max_age_days;
    auto r = bayes::expire(env.db, days);
    if (!r) throw CommandError(r.error().message);
    if (ctx.json)
        fmt::print("{{\"max_age_days\":{},\"tokens_removed\":{},\"seen_removed\":{}}}\n", days, r->tokens, r->seen);
    else if (!ctx.quiet)
        fmt::print("Removed {} tokens and {} learned-message records not learned for {} days\n", r->tokens, r->seen,
                   days);
}

}  // namespace

void add_spam_learn_commands(CLI::App& spam, Context& ctx) {
    static LearnArgs learn_args;
    auto* learn_cmd = spam.add_subcommand("learn", "Train the Bayes classifier with messages known to be spam or ham");
    auto* as_spam = learn_cmd->add_flag("--spam", learn_args.spam, "The messages are spam");
    auto* as_ham = learn_cmd->add_flag("--ham", learn_args.ham, "The messages are ham (wanted mail)");
    as_spam->excludes(as_ham);
    learn_cmd->add_option("--user", learn_args.user,
                          "Into the tokens of this recipient address (read with bayes.per_user; default: global)");
    learn_cmd->add_option("PATH", learn_args.paths, "Message files, directories of them, mbox files, Maildirs")
        ->required();
    learn_cmd->add_flag("--json", ctx.json, "Print the summary as JSON");
    learn_cmd->footer("Learning a message again changes nothing; learning it as the other kind moves it over.\n"
                      "A progress bar is drawn on a terminal's standard error unless -q is given.");
    learn_cmd->callback([&ctx] {
        if (!learn_args.spam && !learn_args.ham) throw CommandError("pmx spam learn: give --spam or --ham", 2);
        learn(ctx, learn_args);
    });

    static ForgetArgs forget_args;
    auto* forget_cmd = spam.add_subcommand("forget", "Take messages learned before back out of the Bayes classifier");
    forget_cmd->add_option("--user", forget_args.user, "From the tokens of this recipient address (default: global)");
    forget_cmd->add_option("PATH", forget_args.paths, "Message files, directories of them, mbox files, Maildirs")
        ->required();
    forget_cmd->add_flag("--json", ctx.json, "Print the summary as JSON");
    forget_cmd->callback([&ctx] { forget(ctx, forget_args); });

    auto* bayes_cmd = spam.add_subcommand("bayes", "Show what the Bayes classifier has learned and whether it answers");
    bayes_cmd->add_flag("--json", ctx.json, "Print JSON");
    bayes_cmd->callback([&ctx] { show_stats(ctx); });

    static std::int64_t expire_days = 0;
    auto* expire_cmd = spam.add_subcommand("expire-tokens", "Remove Bayes tokens not learned for a long time");
    expire_cmd->add_option("--days", expire_days, "Age in days (default: bayes.token_max_age_days)")
        ->check(CLI::Range(std::int64_t{1}, std::int64_t{36500}));
    expire_cmd->add_flag("--json", ctx.json, "Print JSON");
    expire_cmd->callback([&ctx] { expire_tokens(ctx, expire_days); });
}

}  // namespace pmx::cli
