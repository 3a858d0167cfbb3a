// The milter's read path: the global token counts in memory, reloaded when they change.
// Measured on the labelled corpus (bench/README.md): the SQL lookup costs ~4 µs a token, a
// binary search here well under one.
#include <algorithm>
#include <limits>

#include "spam/bayes/bayes.hpp"
#include "spam/bayes/internal.hpp"

namespace pmx::spam::bayes {

Result<Snapshot::Generation> Snapshot::current_generation(store::Database& db) {
    auto st = db.cached(
        "SELECT spam_messages, ham_messages, last_learn_us, last_expire_us FROM bayes_owner WHERE owner = ''");
    if (!st) return st.error();
    auto row = (*st)->step();
    if (!row) return row.error();
    Generation g;
    if (*row) g = {(*st)->int64(0), (*st)->int64(1), (*st)->int64(2), (*st)->int64(3)};
    return g;
}

Result<std::shared_ptr<const Snapshot>> Snapshot::load(store::Database& db) {
    // The generation first: a change while the tokens are read makes the next check reload.
    auto gen = current_generation(db);
    if (!gen) return gen.error();
    auto snap = std::make_shared<Snapshot>();
    snap->generation_ = *gen;
    snap->spam_ = gen->spam;
    snap->ham_ = gen->ham;
    auto st = db.prepare("SELECT token, spam_count, ham_count FROM bayes_token WHERE owner = ''");
    if (!st) return st.error();
    auto clamp = [](std::int64_t v) {
        return static_cast<std::uint32_t>(std::clamp<std::int64_t>(v, 0, std::numeric_limits<std::uint32_t>::max()));
    };
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        snap->tokens_.push_back(st->int64(0));
        snap->counts_.emplace_back(clamp(st->int64(1)), clamp(st->int64(2)));
    }
    // The primary key's order; sort anyway should a backend return them otherwise.
    if (!std::is_sorted(snap->tokens_.begin(), snap->tokens_.end())) {
        std::vector<std::size_t> idx(snap->tokens_.size());
        for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
        std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return snap->tokens_[a] < snap->tokens_[b]; });
        std::vector<std::int64_t> t(idx.size());
        std::vector<std::pair<std::uint32_t, std::uint32_t>> c(idx.size());
        for (std::size_t i = 0; i < idx.size(); ++i) {
            t[i] = snap->tokens_[idx[i]];
            c[i] = snap->counts_[idx[i]];
        }
        snap->tokens_.swap(t);
        snap->counts_.swap(c);
    }
    return std::shared_ptr<const Snapshot>(std::move(snap));
}

TokenCounts Snapshot::find(Token t) const {
    const auto key = detail::to_db(t);
    auto it = std::lower_bound(tokens_.begin(), tokens_.end(), key);
    if (it == tokens_.end() || *it != key) return {};
    const auto& c = counts_[static_cast<std::size_t>(it - tokens_.begin())];
    return {c.first, c.second};
}

Result<std::shared_ptr<const Snapshot>> SnapshotCache::get(store::Database& db) {
    std::shared_ptr<const Snapshot> have;
    {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        have = current_;
        if (have && (reloading_ || now - checked_ < interval_)) return have;
        reloading_ = true;
        checked_ = now;
    }
    // This thread checks (and maybe reloads) outside the lock; the others use `have` meanwhile.
    auto finish = [&](std::shared_ptr<const Snapshot> next) {
        std::lock_guard lock(mutex_);
        reloading_ = false;
        if (next) current_ = std::move(next);
        return current_;
    };
    if (have) {
        auto gen = Snapshot::current_generation(db);
        if (!gen) {
            finish(nullptr);
            return gen.error();
        }
        if (*gen == have->generation()) return finish(nullptr);
    }
    auto loaded = Snapshot::load(db);
    if (!loaded) {
        finish(nullptr);
        return loaded.error();
    }
    return finish(std::move(*loaded));
}

Result<std::optional<Classification>> classify_detail(const Snapshot& snapshot, const std::vector<Token>& tokens,
                                                      store::Database* db, std::string_view owner,
                                                      const Settings& settings, const Params& params) {
    detail::MessageCounts counts{snapshot.spam_messages(), snapshot.ham_messages()};
    const bool per_user = !owner.empty() && db;
    if (per_user) {
        auto user = detail::message_counts(*db, owner, false);
        if (!user) return user.error();
        counts.spam += user->spam;
        counts.ham += user->ham;
    }
    if (!detail::ready(counts, settings)) return std::optional<Classification>{};
    auto sorted = detail::sorted_unique(tokens);
    std::vector<TokenCounts> found(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) found[i] = snapshot.find(sorted[i]);
    if (per_user) {
        if (auto r = detail::add_counts(*db, sorted, owner, false, found); !r) return r.error();
    }
    return std::optional<Classification>(detail::summarize(found, counts, params));
}

Result<std::optional<double>> classify(const Snapshot& snapshot, const std::vector<Token>& tokens,
                                       store::Database* db, std::string_view owner, const Settings& settings,
                                       const Params& params) {
    auto d = classify_detail(snapshot, tokens, db, owner, settings, params);
    if (!d) return d.error();
    if (!*d) return std::optional<double>{};
    return std::optional<double>((*d)->probability);
}

}  // namespace pmx::spam::bayes
