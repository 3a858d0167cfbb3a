#include "report/consolidate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pmx::report {

namespace {

struct PeriodAcc {
    std::int64_t messages = 0, recipients = 0, accepted = 0, quarantined = 0, rejected = 0, tempfailed = 0,
                 discarded = 0, spam = 0, virus = 0, bytes = 0, scan_total = 0, scan_max = 0, stored = 0,
                 stored_bytes = 0, held = 0, held_bytes = 0, blocks = 0;
};

struct Held {
    std::int64_t count = 0, bytes = 0;
};

// The sums of one chunk of hours: per (hour, node), and per (hour, node, kind, key).
struct Chunk {
    std::map<std::pair<std::int64_t, std::string>, PeriodAcc> periods;
    // "start\0kind\0node\0key", sorted as report_count's primary key: inserts append to the b-tree.
    std::map<std::string, std::int64_t> counts;

    PeriodAcc& at(std::int64_t start, const std::string& node) { return periods[{start, node}]; }
    void count(std::int64_t start, const std::string& node, std::string_view kind, std::string_view key) {
        std::string k = fmt::format("{}", start);
        k += '\0';
        k += kind;
        k += '\0';
        k += node;
        k += '\0';
        k += key;
        ++counts[k];
    }
};

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool contains_word_virus(std::string_view detail) { return lower(detail).find("virus") != std::string::npos; }

// The virus names in a reply such as "550 5.7.1 Message contains a virus (Eicar-Signature, X)":
// the message log has no column of its own for them (see the man page).
std::vector<std::string> virus_names(std::string_view detail) {
    std::vector<std::string> out;
    auto l = lower(detail);
    auto at = l.find("virus (");
    if (at == std::string::npos) return out;
    auto open = at + 6;
    auto close = detail.find(')', open);
    if (close == std::string_view::npos) return out;
    auto inner = detail.substr(open + 1, close - open - 1);
    while (!inner.empty()) {
        auto comma = inner.find(',');
        auto name = inner.substr(0, comma);
        while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
        while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
        if (!name.empty()) out.emplace_back(name);
        if (comma == std::string_view::npos) break;
        inner.remove_prefix(comma + 1);
    }
    return out;
}

// One message as read: its row, then its recipients.
struct Message {
    std::int64_t id = -1, time_us = 0, size = 0, elapsed_us = 0;
    std::string client_ip, sender, rules, node;
    std::optional<double> score;
    bool quarantined_spam = false, virus = false;
    std::vector<std::string> viruses, recipients;
};

void add_message(Chunk& c, const Message& m, double spam_score) {
    auto start = period_start(m.time_us, hour_us);
    auto& p = c.at(start, m.node);
    ++p.messages;
    p.bytes += m.size;
    p.scan_total += m.elapsed_us;
    p.scan_max = std::max(p.scan_max, m.elapsed_us);
    bool spam = m.quarantined_spam || (m.score && *m.score >= spam_score);
    if (spam) ++p.spam;
    if (m.virus) ++p.virus;
    if (!m.client_ip.empty()) {
        c.count(start, m.node, "relay", m.client_ip);
        if (spam) c.count(start, m.node, "spam-relay", m.client_ip);
        if (m.virus) c.count(start, m.node, "virus-relay", m.client_ip);
    }
    c.count(start, m.node, "sender", m.sender.empty() ? "<>" : lower(m.sender));
    for (const auto& r : m.recipients) c.count(start, m.node, "recipient", r);
    for (const auto& v : m.viruses) c.count(start, m.node, "virus", v);
    if (m.virus && m.viruses.empty()) c.count(start, m.node, "virus", "(unknown)");
    std::string_view rules = m.rules;
    while (!rules.empty()) {
        auto comma = rules.find(',');
        if (auto r = rules.substr(0, comma); !r.empty()) c.count(start, m.node, "rule", r);
        if (comma == std::string_view::npos) break;
        rules.remove_prefix(comma + 1);
    }
}

Result<std::int64_t> read_log(store::Database& db, Chunk& c, std::int64_t from, std::int64_t to, double spam_score) {
    // No ORDER BY: with the time range on message_log, SQLite walks message_log_time and joins
    // each row's recipients by primary key, so a message's recipients come together.
    auto q = db.cached(
        "SELECT l.id, l.time_us, l.client_ip, l.sender, l.size, l.score, l.rules, l.elapsed_us, l.node, "
        "r.recipient, r.verdict, r.detail FROM message_log l "
        "LEFT JOIN message_log_recipient r ON r.log_id = l.id WHERE l.time_us >= ? AND l.time_us < ?");
    if (!q) return q.error();
    (*q)->bind(1, from).bind(2, to);
    std::int64_t rows = 0;
    Message m;
    for (;;) {
        auto row = (*q)->step();
        if (!row) return row.error();
        if (!*row) break;
        auto id = (*q)->int64(0);
        if (id != m.id) {
            if (m.id >= 0) add_message(c, m, spam_score);
            ++rows;
            m = Message{};
            m.id = id;
            m.time_us = (*q)->int64(1);
            m.client_ip = (*q)->text(2);
            m.sender = (*q)->text(3);
            m.size = (*q)->int64(4);
            m.score = (*q)->optional_real(5);
            m.rules = (*q)->text(6);
            m.elapsed_us = (*q)->int64(7);
            m.node = (*q)->text(8);
        }
        if ((*q)->is_null(9)) continue;
        auto verdict = (*q)->text(10);
        auto detail = (*q)->text(11);
        auto& p = c.at(period_start(m.time_us, hour_us), m.node);
        ++p.recipients;
        if (verdict == "accept") ++p.accepted;
        else if (verdict == "quarantine") ++p.quarantined;
        else if (verdict == "reject") ++p.rejected;
        else if (verdict == "tempfail") ++p.tempfailed;
        else if (verdict == "discard") ++p.discarded;
        m.recipients.push_back(lower((*q)->text(9)));
        if (lower(detail) == "spam") m.quarantined_spam = true;
        if (contains_word_virus(detail)) {
            m.virus = true;
            for (auto& v : virus_names(detail))
                if (std::find(m.viruses.begin(), m.viruses.end(), v) == m.viruses.end()) m.viruses.push_back(v);
        }
    }
    if (m.id >= 0) add_message(c, m, spam_score);
    return rows;
}

// Quarantined messages stored in the chunk, and the quarantine's size (what is still held
// now, by the time it was stored) at the end of each hour: `held` carries across chunks.
Result<void> read_quarantine(store::Database& db, Chunk& c, std::int64_t from, std::int64_t to,
                             std::map<std::string, Held>& held) {
    auto q = db.cached(
        "SELECT time_us, size, node, EXISTS (SELECT 1 FROM quarantine_recipient r WHERE r.message_id = q.id "
        "AND r.released_us IS NULL) FROM quarantine q WHERE time_us >= ? AND time_us < ? ORDER BY time_us");
    if (!q) return q.error();
    (*q)->bind(1, from).bind(2, to);
    std::map<std::pair<std::int64_t, std::string>, Held> added;
    for (;;) {
        auto row = (*q)->step();
        if (!row) return row.error();
        if (!*row) break;
        auto start = period_start((*q)->int64(0), hour_us);
        auto node = (*q)->text(2);
        auto& p = c.at(start, node);
        ++p.stored;
        p.stored_bytes += (*q)->int64(1);
        if ((*q)->int64(3)) {
            auto& a = added[{start, node}];
            ++a.count;
            a.bytes += (*q)->int64(1);
            held[node];  // the node gets a row every hour from here on
        }
    }
    for (std::int64_t h = from; h < to; h += hour_us) {
        for (auto& [node, total] : held) {
            if (auto a = added.find({h, node}); a != added.end()) {
                total.count += a->second.count;
                total.bytes += a->second.bytes;
            }
            if (total.count == 0 && !c.periods.contains({h, node})) continue;
            auto& p = c.at(h, node);
            p.held = total.count;
            p.held_bytes = total.bytes;
        }
    }
    return {};
}

Result<void> read_blocks(store::Database& db, Chunk& c, std::int64_t from, std::int64_t to) {
    auto q = db.cached("SELECT time_us, network FROM ipblock_event WHERE action = 'block' AND time_us >= ? AND time_us < ?");
    if (!q) return q.error();
    (*q)->bind(1, from).bind(2, to);
    for (;;) {
        auto row = (*q)->step();
        if (!row) return row.error();
        if (!*row) break;
        auto start = period_start((*q)->int64(0), hour_us);
        ++c.at(start, "").blocks;
        c.count(start, "", "blocked", (*q)->text(1));
    }
    return {};
}

Result<std::int64_t> write_hours(store::Database& db, const Chunk& c, std::int64_t now, ConsolidateStats& stats) {
    auto ins = db.cached(
        "INSERT INTO report_period (period, start_us, node, messages, recipients, accepted, quarantined, rejected, "
        "tempfailed, discarded, spam, virus, bytes, scan_us_total, scan_us_max, stored, stored_bytes, held, "
        "held_bytes, blocks, consolidated_us) VALUES ('hour', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!ins) return ins.error();
    for (const auto& [k, p] : c.periods) {
        (*ins)->reset();
        (*ins)->bind(1, k.first).bind(2, k.second);
        int i = 3;
        for (auto v : {p.messages, p.recipients, p.accepted, p.quarantined, p.rejected, p.tempfailed, p.discarded,
                       p.spam, p.virus, p.bytes, p.scan_total, p.scan_max, p.stored, p.stored_bytes, p.held,
                       p.held_bytes, p.blocks, now})
            (*ins)->bind(i++, v);
        if (auto r = (*ins)->run(); !r) return r.error();
        ++stats.period_rows;
    }
    auto cnt = db.cached("INSERT INTO report_count (period, start_us, node, kind, key, count) VALUES ('hour', ?, ?, ?, ?, ?)");
    if (!cnt) return cnt.error();
    for (const auto& [k, n] : c.counts) {
        std::string_view s = k;
        auto a = s.find('\0'), b = s.find('\0', a + 1), d = s.find('\0', b + 1);
        (*cnt)->reset();
        (*cnt)->bind(1, static_cast<std::int64_t>(std::stoll(std::string(s.substr(0, a))))).bind(3, s.substr(a + 1, b - a - 1));
        (*cnt)->bind(2, s.substr(b + 1, d - b - 1)).bind(4, s.substr(d + 1)).bind(5, n);
        if (auto r = (*cnt)->run(); !r) return r.error();
        ++stats.count_rows;
    }
    return static_cast<std::int64_t>(c.periods.size());
}

// The day holding [from, to) again, from its hours; held is the quarantine size at `to`.
Result<void> write_day(store::Database& db, std::int64_t day, const std::map<std::string, Held>& held,
                       std::int64_t now, ConsolidateStats& stats) {
    for (auto sql : {"DELETE FROM report_period WHERE period = 'day' AND start_us = ?",
                     "DELETE FROM report_count WHERE period = 'day' AND start_us = ?"}) {
        auto del = db.cached(sql);
        if (!del) return del.error();
        (*del)->bind(1, day);
        if (auto r = (*del)->run(); !r) return r.error();
    }
    auto per = db.cached(
        "INSERT INTO report_period (period, start_us, node, messages, recipients, accepted, quarantined, rejected, "
        "tempfailed, discarded, spam, virus, bytes, scan_us_total, scan_us_max, stored, stored_bytes, held, "
        "held_bytes, blocks, consolidated_us) SELECT 'day', ?1, node, sum(messages), sum(recipients), sum(accepted), "
        "sum(quarantined), sum(rejected), sum(tempfailed), sum(discarded), sum(spam), sum(virus), sum(bytes), "
        "sum(scan_us_total), max(scan_us_max), sum(stored), sum(stored_bytes), 0, 0, sum(blocks), ?2 "
        "FROM report_period WHERE period = 'hour' AND start_us >= ?1 AND start_us < ?3 GROUP BY node");
    if (!per) return per.error();
    (*per)->bind(1, day).bind(2, now).bind(3, day + day_us);
    if (auto r = (*per)->run(); !r) return r.error();
    stats.period_rows += db.changes();
    auto upd = db.cached("UPDATE report_period SET held = ?, held_bytes = ? WHERE period = 'day' AND start_us = ? AND node = ?");
    if (!upd) return upd.error();
    for (const auto& [node, h] : held) {
        (*upd)->reset();
        (*upd)->bind(1, h.count).bind(2, h.bytes).bind(3, day).bind(4, node);
        if (auto r = (*upd)->run(); !r) return r.error();
    }
    auto cnt = db.cached(
        "INSERT INTO report_count (period, start_us, node, kind, key, count) SELECT 'day', ?1, node, kind, key, "
        "sum(count) FROM report_count WHERE period = 'hour' AND start_us >= ?1 AND start_us < ?2 "
        "GROUP BY kind, node, key");
    if (!cnt) return cnt.error();
    (*cnt)->bind(1, day).bind(2, day + day_us);
    if (auto r = (*cnt)->run(); !r) return r.error();
    stats.count_rows += db.changes();
    ++stats.days;
    return {};
}

Result<std::optional<std::int64_t>> one_value(store::Database& db, std::string_view sql) {
    auto q = db.prepare(sql);
    if (!q) return q.error();
    auto row = q->step();
    if (!row) return row.error();
    if (!*row) return std::optional<std::int64_t>{};
    return q->optional_int64(0);
}

// Where a first run starts: the earliest row of anything it adds up.
Result<std::optional<std::int64_t>> earliest(store::Database& db) {
    std::optional<std::int64_t> out;
    for (auto sql : {"SELECT min(time_us) FROM message_log", "SELECT min(time_us) FROM quarantine",
                     "SELECT min(time_us) FROM ipblock_event WHERE action = 'block'"}) {
        auto v = one_value(db, sql);
        if (!v) return v.error();
        if (*v) out = out ? std::min(*out, **v) : **v;
    }
    return out;
}

// The quarantine's size before `from`, per node (what is still held now).
Result<std::map<std::string, Held>> held_before(store::Database& db, std::int64_t from) {
    auto q = db.prepare(
        "SELECT node, count(*), coalesce(sum(size), 0) FROM quarantine q WHERE time_us < ? AND EXISTS (SELECT 1 "
        "FROM quarantine_recipient r WHERE r.message_id = q.id AND r.released_us IS NULL) GROUP BY node");
    if (!q) return q.error();
    q->bind(1, from);
    std::map<std::string, Held> out;
    for (;;) {
        auto row = q->step();
        if (!row) return row.error();
        if (!*row) break;
        out[q->text(0)] = {q->int64(1), q->int64(2)};
    }
    return out;
}

}  // namespace

std::int64_t period_start(std::int64_t t, std::int64_t length) {
    auto r = t % length;
    return r < 0 ? t - r - length : t - r;
}

Result<ConsolidateStats> consolidate(store::Database& db, std::int64_t now, const ConsolidateOptions& o) {
    ConsolidateStats stats;
    auto state = one_value(db, "SELECT final_until_us FROM report_state WHERE period = 'hour'");
    if (!state) return state.error();
    std::int64_t from = 0;
    if (o.rebuild_from_us) {
        from = period_start(*o.rebuild_from_us, hour_us);
    } else if (*state) {
        from = **state;
    } else {
        auto first = earliest(db);
        if (!first) return first.error();
        from = period_start(first->value_or(now), hour_us);
    }
    std::int64_t to = period_start(now, hour_us) + hour_us;
    from = std::min(from, to - hour_us);
    std::int64_t final_until = std::max(from, period_start(now - o.grace_us, hour_us));
    stats.from_us = from;
    stats.to_us = to;
    stats.final_until_us = final_until;
    std::int64_t total_hours = (to - from) / hour_us;

    auto held = held_before(db, from);
    if (!held) return held.error();
    for (std::int64_t chunk = from; chunk < to;) {
        std::int64_t day = period_start(chunk, day_us);
        std::int64_t end = std::min(to, day + day_us);
        auto txn = db.transaction();
        if (!txn) return txn.error();
        for (auto sql : {"DELETE FROM report_period WHERE period = 'hour' AND start_us >= ? AND start_us < ?",
                         "DELETE FROM report_count WHERE period = 'hour' AND start_us >= ? AND start_us < ?"}) {
            auto del = db.cached(sql);
            if (!del) return del.error();
            (*del)->bind(1, chunk).bind(2, end);
            if (auto r = (*del)->run(); !r) return r.error();
        }
        Chunk c;
        auto rows = read_log(db, c, chunk, end, o.spam_score);
        if (!rows) return rows.error();
        stats.log_rows += *rows;
        if (auto r = read_quarantine(db, c, chunk, end, *held); !r) return r.error();
        if (auto r = read_blocks(db, c, chunk, end); !r) return r.error();
        if (auto r = write_hours(db, c, now, stats); !r) return r.error();
        if (auto r = write_day(db, day, *held, now, stats); !r) return r.error();
        if (end == to) {
            auto st = db.cached(
                "INSERT INTO report_state (period, final_until_us) VALUES ('hour', ?1) "
                "ON CONFLICT (period) DO UPDATE SET final_until_us = ?1");
            if (!st) return st.error();
            (*st)->bind(1, final_until);
            if (auto r = (*st)->run(); !r) return r.error();
        }
        if (auto r = txn->commit(); !r) return r.error();
        stats.hours += (end - chunk) / hour_us;
        if (o.progress) o.progress(stats.hours, total_hours);
        chunk = end;
    }
    return stats;
}

}  // namespace pmx::report
