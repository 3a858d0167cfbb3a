// Searching the quarantine index: the filters of QuarantineFilter as one SELECT, newest first.
#include <fmt/format.h>

#include <algorithm>
#include <functional>

#include "store/quarantine_rows.hpp"
#include "store/quarantine_store.hpp"
#include "util/text.hpp"

namespace pmx::store {

namespace {

constexpr std::size_t max_text_bytes = 1000;
constexpr std::size_t max_terms = 32;

bool space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// The tokenizer (unicode61) indexes letters and digits; a term with none of them would be an
// FTS5 phrase without tokens. Bytes >= 0x80 are UTF-8 letters as far as we can tell here.
bool searchable(std::string_view term) {
    return std::any_of(term.begin(), term.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u >= 0x80 || (u >= '0' && u <= '9') || ((u | 0x20) >= 'a' && (u | 0x20) <= 'z');
    });
}

Error bad_text(std::string_view why) { return Error{fmt::format("Invalid search text: {}", why)}; }

// SQLite (without STAT4) cannot tell a filter that matches a handful of rows from one that
// matches half the table, and picks the filter's index either way: then every match is
// fetched and sorted by time (seconds at a million entries for a common word or a wide score
// range). So count the matches first, at most probe_limit of them (under a millisecond): few,
// and the filter's index drives; many, and the time index does (a unary "+" keeps the filter's
// index out), stopping as soon as a page is full.
constexpr std::int64_t probe_limit = 5000;

Result<bool> many_matches(Database& db, std::string_view sql, const std::function<void(Statement&)>& bind) {
    auto stmt = db.cached(sql);
    if (!stmt) return stmt.error();
    bind(**stmt);
    auto row = (*stmt)->step();
    if (!row) return Error{fmt::format("Failed to search the quarantine: {}", row.error().message)};
    return *row && (*stmt)->int64(0) >= probe_limit;
}

// recipient_scope as a condition on the quarantine_recipient row aliased a, and its values
// in bind order: addresses and domains (after the last "@"), lowercased, through the two
// expression indexes of schema v8 (the expressions must stay exactly as there).
constexpr std::size_t max_scope_patterns = 1000;

struct ScopeCondition {
    std::string sql;
    std::vector<std::string> values;
};

Result<ScopeCondition> scope_condition(const std::vector<std::string>& patterns, std::string_view a) {
    if (patterns.size() > max_scope_patterns)
        return Error{fmt::format("Failed to search the quarantine: more than {} addresses and domains in scope",
                                 max_scope_patterns)};
    std::vector<std::string> addresses, domains;
    for (const auto& p : patterns) {
        auto lower = ascii_lower(p);
        if (lower.size() > 1 && lower.front() == '@') domains.push_back(lower.substr(1));
        else if (!lower.empty() && lower.front() != '@') addresses.push_back(std::move(lower));
    }
    auto marks = [](std::size_t n) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
        return out;
    };
    std::vector<std::string> parts;
    if (!addresses.empty()) parts.push_back(fmt::format("lower({}.recipient) IN ({})", a, marks(addresses.size())));
    if (!domains.empty())
        parts.push_back(fmt::format("lower(substr({0}.recipient, length(rtrim({0}.recipient, replace({0}.recipient, '@', ''))) "
                                    "+ 1)) IN ({1})", a, marks(domains.size())));
    ScopeCondition out;
    out.sql = parts.empty() ? "(0)" : parts.size() == 1 ? "(" + parts[0] + ")" : "(" + parts[0] + " OR " + parts[1] + ")";
    out.values = std::move(addresses);
    for (auto& d : domains) out.values.push_back(std::move(d));
    return out;
}

}  // namespace

Result<std::string> fts_query(std::string_view text) {
    if (text.size() > max_text_bytes)
        return bad_text(fmt::format("{} bytes, at most {} are allowed", text.size(), max_text_bytes));
    std::string out;
    std::size_t terms = 0;
    for (std::size_t i = 0; i < text.size();) {
        if (space(text[i])) {
            ++i;
            continue;
        }
        const std::size_t start = i;
        std::string_view term;
        if (text[i] == '"') {
            auto close = text.find('"', i + 1);
            if (close == std::string_view::npos)
                return bad_text(fmt::format("the quote at position {} is not closed", i + 1));
            term = text.substr(i + 1, close - i - 1);
            i = close + 1;
        } else {
            auto end = i;
            while (end < text.size() && !space(text[end]) && text[end] != '"') ++end;
            term = text.substr(i, end - i);
            i = end;
        }
        bool prefix = false;
        while (i < text.size() && text[i] == '*') {  // "phrase"*
            prefix = true;
            ++i;
        }
        while (!term.empty() && term.back() == '*') {  // word*
            prefix = true;
            term.remove_suffix(1);
        }
        if (!searchable(term))
            return bad_text(fmt::format("{} has no letters or digits to search for", text.substr(start, i - start)));
        if (++terms > max_terms) return bad_text(fmt::format("more than {} words", max_terms));
        if (!out.empty()) out += ' ';
        out += '"';
        for (char c : term) out += c == '"' ? std::string("\"\"") : std::string(1, c);
        out += '"';
        if (prefix) out += '*';
    }
    if (out.empty()) return bad_text("nothing to search for");
    return out;
}

Result<std::vector<QuarantinedMessage>> search_quarantine(Database& db, const std::filesystem::path& dir,
                                                          const QuarantineFilter& f) {
    std::string match;
    if (!f.text.empty()) {
        auto q = fts_query(f.text);
        if (!q) return q.error();
        match = std::move(*q);
    }
    bool many_words = false, many_scores = false;
    if (!match.empty()) {
        auto many = many_matches(db, fmt::format("SELECT count(*) FROM (SELECT 1 FROM quarantine_fts WHERE quarantine_fts "
                                                 "MATCH ? LIMIT {})", probe_limit),
                                 [&](Statement& s) { s.bind(1, match); });
        if (!many) return many.error();
        many_words = *many;
    }
    if (f.min_score || f.max_score) {
        auto many = many_matches(db, fmt::format("SELECT count(*) FROM (SELECT 1 FROM quarantine WHERE score >= ? AND "
                                                 "score <= ? LIMIT {})", probe_limit),
                                 [&](Statement& s) { s.bind(1, f.min_score.value_or(-1e300)).bind(2, f.max_score.value_or(1e300)); });
        if (!many) return many.error();
        many_scores = *many;
    }
    const char* score = many_scores ? "+q.score" : "q.score";
    std::optional<ScopeCondition> scope_r, scope_h, scope_s;  // one per alias that needs it
    if (f.recipient_scope) {
        for (auto [into, alias] : {std::pair{&scope_r, "r"}, std::pair{&scope_h, "h"}, std::pair{&scope_s, "s"}}) {
            auto c = scope_condition(*f.recipient_scope, alias);
            if (!c) return c.error();
            *into = std::move(*c);
        }
    }
    auto in_scope = [](const std::optional<ScopeCondition>& c) { return c ? " AND " + c->sql : std::string(); };
    // The same probe for the scope: an end user's few messages are found through the recipient
    // indexes, not by walking the time index past a million others; a scope that matches many
    // walks the time index and stops at a full page.
    bool few_in_scope = false;
    if (scope_s) {
        auto many = many_matches(db, fmt::format("SELECT count(*) FROM (SELECT 1 FROM quarantine_recipient s WHERE {} LIMIT {})",
                                                 scope_s->sql, probe_limit),
                                 [&](Statement& st) {
                                     int k = 1;
                                     for (const auto& v : scope_s->values) st.bind(k++, v);
                                 });
        if (!many) return many.error();
        few_in_scope = !*many;
    }

    std::string sql = fmt::format("SELECT {} FROM quarantine q WHERE 1 = 1", detail::quarantine_columns);
    if (!f.sender.empty()) sql += " AND lower(q.sender) LIKE ? ESCAPE '\\'";
    if (!f.recipient.empty())
        sql += " AND EXISTS (SELECT 1 FROM quarantine_recipient r WHERE r.message_id = q.id"
               " AND lower(r.recipient) LIKE ? ESCAPE '\\'" + in_scope(scope_r) + ")";
    if (!f.subject.empty()) sql += " AND lower(q.subject) LIKE ? ESCAPE '\\'";
    if (!f.reason.empty()) sql += " AND lower(q.reason) = lower(?)";
    if (f.min_score) sql += fmt::format(" AND {} >= ?", score);
    if (f.max_score) sql += fmt::format(" AND {} <= ?", score);
    if (!match.empty())
        sql += fmt::format(" AND {} IN (SELECT rowid FROM quarantine_fts WHERE quarantine_fts MATCH ?)",
                           many_words ? "+q.id" : "q.id");
    if (f.state == HeldState::Held)
        sql += " AND EXISTS (SELECT 1 FROM quarantine_recipient h WHERE h.message_id = q.id AND h.released_us IS NULL" +
               in_scope(scope_h) + ")";
    if (f.state == HeldState::Released)
        sql += " AND NOT EXISTS (SELECT 1 FROM quarantine_recipient h WHERE h.message_id = q.id"
               " AND h.released_us IS NULL" + in_scope(scope_h) + ")";
    if (f.since_us) sql += " AND q.time_us >= ?";
    if (f.until_us) sql += " AND q.time_us < ?";
    if (scope_s && few_in_scope) sql += " AND q.id IN (SELECT s.message_id FROM quarantine_recipient s WHERE " + scope_s->sql + ")";
    else if (scope_s) sql += " AND EXISTS (SELECT 1 FROM quarantine_recipient s WHERE s.message_id = q.id" + in_scope(scope_s) + ")";
    sql += " ORDER BY q.time_us DESC, q.id DESC LIMIT ? OFFSET ?";

    auto stmt = db.prepare(sql);
    if (!stmt) return stmt.error();
    int i = 1;
    if (!f.sender.empty()) stmt->bind(i++, like_substring(f.sender));
    auto bind_scope = [&](const std::optional<ScopeCondition>& c) {
        if (c)
            for (const auto& v : c->values) stmt->bind(i++, v);
    };
    if (!f.recipient.empty()) {
        stmt->bind(i++, like_substring(f.recipient));
        bind_scope(scope_r);
    }
    if (!f.subject.empty()) stmt->bind(i++, like_substring(f.subject));
    if (!f.reason.empty()) stmt->bind(i++, f.reason);
    if (f.min_score) stmt->bind(i++, *f.min_score);
    if (f.max_score) stmt->bind(i++, *f.max_score);
    if (!match.empty()) stmt->bind(i++, match);
    if (f.state != HeldState::Any) bind_scope(scope_h);
    if (f.since_us) stmt->bind(i++, *f.since_us);
    if (f.until_us) stmt->bind(i++, *f.until_us);
    bind_scope(scope_s);
    stmt->bind(i, f.limit > 0 ? f.limit : 50).bind(i + 1, std::max(f.offset, 0));

    std::vector<QuarantinedMessage> out;
    for (;;) {
        auto row = stmt->step();
        if (!row) return Error{fmt::format("Failed to search the quarantine: {}", row.error().message)};
        if (!*row) break;
        out.push_back(detail::read_quarantine_row(*stmt, dir));
    }
    stmt->reset();
    if (auto r = detail::load_recipients(db, out); !r) return r.error();
    return out;
}

}  // namespace pmx::store
