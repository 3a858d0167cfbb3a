// The Bayes token store: counts per (owner, token) in table bayes_token, messages learned
// per owner in bayes_owner, and the messages learned in bayes_seen (schema version 2,
// lib/store/schema.cpp). Learning is a handful of upserts per token through cached
// statements; classification reads the counts of a message's tokens 128 at a time.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "spam/bayes/bayes.hpp"
#include "spam/bayes/internal.hpp"
#include "util/text.hpp"

namespace pmx::spam::bayes {

namespace {

constexpr std::size_t lookup_chunk = 128;  // tokens per SELECT (placeholders, padded)
constexpr std::size_t max_key_bytes = 300;

using detail::from_db;
using detail::to_db;

std::string lookup_sql(bool with_global) {
    std::string s = with_global
        ? "SELECT token, spam_count, ham_count FROM bayes_token WHERE owner IN ('', ?) AND token IN ("
        : "SELECT token, spam_count, ham_count FROM bayes_token WHERE owner = ? AND token IN (";
    for (std::size_t i = 0; i < lookup_chunk; ++i) s += i ? ",?" : "?";
    s += ")";
    return s;
}

// Adds delta (+1 or -1) to the kind's count of each token; rows that reach zero go.
Result<void> apply(store::Database& db, const std::vector<Token>& tokens, Kind kind, int delta,
                   std::string_view owner, std::int64_t now) {
    if (delta > 0) {
        auto up = db.cached(
            "INSERT INTO bayes_token (owner, token, spam_count, ham_count, atime_us) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (owner, token) DO UPDATE SET "
            "spam_count = bayes_token.spam_count + excluded.spam_count, "
            "ham_count = bayes_token.ham_count + excluded.ham_count, atime_us = excluded.atime_us");
        if (!up) return up.error();
        const std::int64_t s = kind == Kind::Spam ? delta : 0, h = kind == Kind::Ham ? delta : 0;
        for (Token t : tokens) {
            (*up)->reset();
            (*up)->bind(1, owner).bind(2, to_db(t)).bind(3, s).bind(4, h).bind(5, now);
            if (auto r = (*up)->run(); !r) return r;
        }
        return {};
    }
    const char* down_sql = kind == Kind::Spam
        ? "UPDATE bayes_token SET spam_count = CASE WHEN spam_count > 1 THEN spam_count - 1 ELSE 0 END "
          "WHERE owner = ? AND token = ?"
        : "UPDATE bayes_token SET ham_count = CASE WHEN ham_count > 1 THEN ham_count - 1 ELSE 0 END "
          "WHERE owner = ? AND token = ?";
    auto down = db.cached(down_sql);
    if (!down) return down.error();
    for (Token t : tokens) {
        (*down)->reset();
        (*down)->bind(1, owner).bind(2, to_db(t));
        if (auto r = (*down)->run(); !r) return r;
    }
    auto gone = db.cached("DELETE FROM bayes_token WHERE owner = ? AND token = ? AND spam_count = 0 AND ham_count = 0");
    if (!gone) return gone.error();
    for (Token t : tokens) {
        (*gone)->reset();
        (*gone)->bind(1, owner).bind(2, to_db(t));
        if (auto r = (*gone)->run(); !r) return r;
    }
    return {};
}

Result<void> count_message(store::Database& db, Kind kind, int delta, std::string_view owner, std::int64_t now) {
    auto st = db.cached(
        "INSERT INTO bayes_owner (owner, spam_messages, ham_messages, last_learn_us) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (owner) DO UPDATE SET "
        "spam_messages = CASE WHEN bayes_owner.spam_messages + excluded.spam_messages > 0 "
        "THEN bayes_owner.spam_messages + excluded.spam_messages ELSE 0 END, "
        "ham_messages = CASE WHEN bayes_owner.ham_messages + excluded.ham_messages > 0 "
        "THEN bayes_owner.ham_messages + excluded.ham_messages ELSE 0 END, "
        "last_learn_us = excluded.last_learn_us");
    if (!st) return st.error();
    const std::int64_t s = kind == Kind::Spam ? delta : 0, h = kind == Kind::Ham ? delta : 0;
    // a negative delta is only ever an update: the owner's row exists once it learned
    (*st)->bind(1, owner).bind(2, s).bind(3, h).bind(4, now);
    return (*st)->run();
}

// The kind a message was learned as for the owner, if it was.
Result<std::optional<Kind>> seen_kind(store::Database& db, const std::string& key, std::string_view owner) {
    auto st = db.cached("SELECT kind FROM bayes_seen WHERE owner = ? AND msg_key = ?");
    if (!st) return st.error();
    (*st)->bind(1, owner).bind(2, key);
    auto row = (*st)->step();
    if (!row) return row.error();
    if (!*row) return std::optional<Kind>{};
    return std::optional<Kind>((*st)->text(0) == "spam" ? Kind::Spam : Kind::Ham);
}

Kind other(Kind k) { return k == Kind::Spam ? Kind::Ham : Kind::Spam; }

std::string hex64(std::uint64_t v) { return fmt::format("{:016x}", v); }

}  // namespace

std::string_view kind_name(Kind k) { return k == Kind::Spam ? "spam" : "ham"; }

std::string_view outcome_name(LearnOutcome o) {
    switch (o) {
        case LearnOutcome::Learned: return "learned";
        case LearnOutcome::AlreadyKnown: return "already-known";
        case LearnOutcome::Relearned: return "relearned";
    }
    return "?";
}

std::string message_key(const mail::ParsedMessage& message) {
    if (const auto* h = message.header("Message-ID")) {
        std::string_view id = trim(h->raw);
        if (id.size() > 2) {
            std::string key = "mid:";
            key.append(id.substr(0, max_key_bytes));
            return key;
        }
    }
    std::string basis = message.subject;
    basis += '\n';
    basis += message.text;
    return "body:" + hex64(hash_token(basis));
}

namespace detail {

std::vector<Token> sorted_unique(const std::vector<Token>& tokens) {
    std::vector<Token> sorted = tokens;
    if (!std::is_sorted(sorted.begin(), sorted.end())) std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    return sorted;
}

Result<MessageCounts> message_counts(store::Database& db, std::string_view owner, bool with_global) {
    auto st = db.cached(with_global
        ? "SELECT coalesce(sum(spam_messages), 0), coalesce(sum(ham_messages), 0) FROM bayes_owner WHERE owner IN ('', ?)"
        : "SELECT coalesce(sum(spam_messages), 0), coalesce(sum(ham_messages), 0) FROM bayes_owner WHERE owner = ?");
    if (!st) return st.error();
    (*st)->bind(1, owner);
    auto row = (*st)->step();
    if (!row) return row.error();
    MessageCounts c;
    if (*row) {
        c.spam = (*st)->int64(0);
        c.ham = (*st)->int64(1);
    }
    return c;
}

bool ready(const MessageCounts& c, const Settings& settings) {
    return c.spam >= std::max<std::int64_t>(settings.min_spam, 1) && c.ham >= std::max<std::int64_t>(settings.min_ham, 1);
}

Result<void> add_counts(store::Database& db, const std::vector<Token>& sorted, std::string_view owner,
                        bool with_global, std::vector<TokenCounts>& found) {
    auto st = db.cached(lookup_sql(with_global));
    if (!st) return st.error();
    for (std::size_t base = 0; base < sorted.size(); base += lookup_chunk) {
        (*st)->reset();
        (*st)->bind(1, owner);
        for (std::size_t i = 0; i < lookup_chunk; ++i) {
            std::size_t at = base + i < sorted.size() ? base + i : base;  // padding repeats the first
            (*st)->bind(static_cast<int>(i + 2), to_db(sorted[at]));
        }
        for (;;) {
            auto row = (*st)->step();
            if (!row) return row.error();
            if (!*row) break;
            Token t = from_db((*st)->int64(0));
            auto it = std::lower_bound(sorted.begin(), sorted.end(), t);
            if (it == sorted.end() || *it != t) continue;
            auto& c = found[static_cast<std::size_t>(it - sorted.begin())];
            c.spam += (*st)->int64(1);  // per user: the user's row and the global row add up
            c.ham += (*st)->int64(2);
        }
    }
    return {};
}

}  // namespace detail

Result<std::optional<Classification>> classify_detail(store::Database& db, const std::vector<Token>& tokens,
                                                      std::string_view owner, const Settings& settings,
                                                      const Params& params) {
    auto counts = detail::message_counts(db, owner, true);
    if (!counts) return counts.error();
    if (!detail::ready(*counts, settings)) return std::optional<Classification>{};
    auto sorted = detail::sorted_unique(tokens);
    std::vector<TokenCounts> found(sorted.size());
    if (auto r = detail::add_counts(db, sorted, owner, true, found); !r) return r.error();
    return std::optional<Classification>(detail::summarize(found, *counts, params));
}

Result<std::optional<double>> classify(store::Database& db, const std::vector<Token>& tokens, std::string_view owner,
                                       const Settings& settings, const Params& params) {
    auto d = classify_detail(db, tokens, owner, settings, params);
    if (!d) return d.error();
    if (!*d) return std::optional<double>{};
    return std::optional<double>((*d)->probability);
}

Result<LearnOutcome> learn_tokens(store::Database& db, const std::vector<Token>& tokens, const std::string& key,
                                  Kind kind, std::string_view owner) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto seen = seen_kind(db, key, owner);
    if (!seen) return seen.error();
    if (*seen && **seen == kind) return LearnOutcome::AlreadyKnown;  // rolls back nothing

    const auto now = store::now_us();
    LearnOutcome outcome = LearnOutcome::Learned;
    if (*seen) {
        if (auto r = apply(db, tokens, other(kind), -1, owner, now); !r) return r.error();
        if (auto r = count_message(db, other(kind), -1, owner, now); !r) return r.error();
        outcome = LearnOutcome::Relearned;
    }
    if (auto r = apply(db, tokens, kind, +1, owner, now); !r) return r.error();
    if (auto r = count_message(db, kind, +1, owner, now); !r) return r.error();
    auto st = db.cached(
        "INSERT INTO bayes_seen (owner, msg_key, kind, time_us) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (owner, msg_key) DO UPDATE SET kind = excluded.kind, time_us = excluded.time_us");
    if (!st) return st.error();
    (*st)->bind(1, owner).bind(2, key).bind(3, kind_name(kind)).bind(4, now);
    if (auto r = (*st)->run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return outcome;
}

Result<LearnOutcome> learn(store::Database& db, const mail::ParsedMessage& message, std::string_view raw, Kind kind,
                           std::string_view owner) {
    (void)raw;
    return learn_tokens(db, tokenize(message), message_key(message), kind, owner);
}

Result<bool> forget_tokens(store::Database& db, const std::vector<Token>& tokens, const std::string& key,
                           std::string_view owner) {
    auto tx = db.transaction();
    if (!tx) return tx.error();
    auto seen = seen_kind(db, key, owner);
    if (!seen) return seen.error();
    if (!*seen) return false;
    const auto now = store::now_us();
    if (auto r = apply(db, tokens, **seen, -1, owner, now); !r) return r.error();
    if (auto r = count_message(db, **seen, -1, owner, now); !r) return r.error();
    auto st = db.cached("DELETE FROM bayes_seen WHERE owner = ? AND msg_key = ?");
    if (!st) return st.error();
    (*st)->bind(1, owner).bind(2, key);
    if (auto r = (*st)->run(); !r) return r.error();
    if (auto r = tx->commit(); !r) return r.error();
    return true;
}

Result<bool> forget(store::Database& db, const mail::ParsedMessage& message, std::string_view owner) {
    return forget_tokens(db, tokenize(message), message_key(message), owner);
}

Result<ExpireResult> expire(store::Database& db, std::int64_t max_age_days) {
    if (max_age_days <= 0) return Error{"Failed to expire Bayes tokens: the age must be at least one day"};
    const auto now = store::now_us();
    const std::int64_t cutoff = now - max_age_days * 86400LL * 1000000LL;
    auto tx = db.transaction();
    if (!tx) return tx.error();
    ExpireResult out;
    {
        auto st = db.prepare("DELETE FROM bayes_token WHERE atime_us < ?");
        if (!st) return st.error();
        st->bind(1, cutoff);
        if (auto r = st->run(); !r) return r.error();
        out.tokens = db.changes();
    }
    {
        auto st = db.prepare("DELETE FROM bayes_seen WHERE time_us < ?");
        if (!st) return st.error();
        st->bind(1, cutoff);
        if (auto r = st->run(); !r) return r.error();
        out.seen = db.changes();
    }
    {
        auto st = db.prepare("UPDATE bayes_owner SET last_expire_us = ?");
        if (!st) return st.error();
        st->bind(1, now);
        if (auto r = st->run(); !r) return r.error();
    }
    if (auto r = tx->commit(); !r) return r.error();
    return out;
}

Result<Stats> stats(store::Database& db) {
    Stats out;
    out.owners.push_back(OwnerStats{});
    {
        auto st = db.prepare(
            "SELECT owner, spam_messages, ham_messages, last_learn_us, last_expire_us FROM bayes_owner ORDER BY owner");
        if (!st) return st.error();
        for (;;) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            OwnerStats o{st->text(0), st->int64(1), st->int64(2), 0, st->int64(3), st->int64(4)};
            if (o.owner.empty()) out.owners[0] = o;
            else out.owners.push_back(o);
        }
    }
    {
        auto st = db.prepare("SELECT owner, count(*) FROM bayes_token GROUP BY owner");
        if (!st) return st.error();
        for (;;) {
            auto row = st->step();
            if (!row) return row.error();
            if (!*row) break;
            std::string owner = st->text(0);
            std::int64_t n = st->int64(1);
            out.tokens += n;
            auto it = std::find_if(out.owners.begin(), out.owners.end(), [&](const auto& o) { return o.owner == owner; });
            if (it != out.owners.end()) it->tokens = n;
            else out.owners.push_back(OwnerStats{owner, 0, 0, n, 0, 0});
        }
    }
    return out;
}

}  // namespace pmx::spam::bayes
