#include "report/reports.hpp"

#include <fmt/format.h>

#include <ctime>

#include "report/consolidate.hpp"

namespace pmx::report {

namespace {

constexpr ReportInfo all[] = {
    {"verdicts", Kind::Series, "Messages and recipients by verdict, per period"},
    {"rates", Kind::Series, "Spam and virus rates, bytes and scan time, per period"},
    {"ipblocks", Kind::Series, "Client addresses the IP Blocker blocked, per period"},
    {"quarantine-size", Kind::Series, "Messages stored in the quarantine, and what it holds at each period's end"},
    {"top-relays", Kind::Top, "Client addresses that sent the most messages"},
    {"top-spam-relays", Kind::Top, "Client addresses that sent the most spam"},
    {"top-virus-relays", Kind::Top, "Client addresses that sent the most viruses"},
    {"top-senders", Kind::Top, "Envelope senders of the most messages"},
    {"top-recipients", Kind::Top, "Recipients of the most messages"},
    {"top-viruses", Kind::Top, "Virus names found most often"},
    {"top-rules", Kind::Top, "Spam rules hit most often"},
    {"top-blocked", Kind::Top, "Networks the IP Blocker blocked most often"},
};

// A series: SQL columns after start_us, with their names.
struct SeriesDef {
    std::string_view name;
    std::string_view select;  // sums over report_period, after "start_us"
    std::vector<std::string_view> columns;
};

const SeriesDef series[] = {
    {"verdicts",
     "sum(messages), sum(recipients), sum(accepted), sum(quarantined), sum(rejected), sum(tempfailed), sum(discarded)",
     {"messages", "recipients", "accepted", "quarantined", "rejected", "tempfailed", "discarded"}},
    {"rates",
     "sum(messages), sum(spam), sum(virus), sum(bytes), sum(scan_us_total), max(scan_us_max)",
     {"messages", "spam", "spam_pct", "virus", "virus_pct", "bytes", "avg_scan_ms", "max_scan_ms"}},
    {"ipblocks", "sum(blocks)", {"blocks"}},
    {"quarantine-size", "sum(stored), sum(stored_bytes), sum(held), sum(held_bytes)",
     {"stored", "stored_bytes", "held", "held_bytes"}},
};

struct TopDef {
    std::string_view name, kind, key_column;
};

const TopDef tops[] = {
    {"top-relays", "relay", "relay"},           {"top-spam-relays", "spam-relay", "relay"},
    {"top-virus-relays", "virus-relay", "relay"}, {"top-senders", "sender", "sender"},
    {"top-recipients", "recipient", "recipient"}, {"top-viruses", "virus", "virus"},
    {"top-rules", "rule", "rule"},              {"top-blocked", "blocked", "network"},
};

std::string pct(std::int64_t part, std::int64_t whole) {
    return whole ? fmt::format("{:.2f}", 100.0 * static_cast<double>(part) / static_cast<double>(whole)) : "0.00";
}

std::string ms(double us) { return fmt::format("{:.1f}", us / 1000.0); }

Result<Report> run_series(store::Database& db, const SeriesDef& def, const Query& q, std::int64_t length) {
    std::string sql = fmt::format(
        "SELECT start_us, {} FROM report_period WHERE period = ? AND start_us >= ? AND start_us < ?{} "
        "GROUP BY start_us ORDER BY start_us",
        def.select, q.node ? " AND node = ?" : "");
    auto st = db.prepare(sql);
    if (!st) return st.error();
    st->bind(1, q.by).bind(2, period_start(q.from_us, length)).bind(3, q.to_us);
    if (q.node) st->bind(4, *q.node);
    Report r{std::string(def.name), {{"period", false}}, {}};
    for (auto c : def.columns) r.columns.push_back({std::string(c), true});
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        std::vector<std::string> cells{period_label(st->int64(0))};
        if (def.name == "rates") {
            auto messages = st->int64(1), spam = st->int64(2), virus = st->int64(3);
            cells.insert(cells.end(),
                         {std::to_string(messages), std::to_string(spam), pct(spam, messages), std::to_string(virus),
                          pct(virus, messages), std::to_string(st->int64(4)),
                          ms(messages ? static_cast<double>(st->int64(5)) / static_cast<double>(messages) : 0.0),
                          ms(static_cast<double>(st->int64(6)))});
        } else {
            for (int i = 1; i < st->column_count(); ++i) cells.push_back(std::to_string(st->int64(i)));
        }
        r.rows.push_back(std::move(cells));
    }
    return r;
}

Result<Report> run_top(store::Database& db, const TopDef& def, const Query& q, std::int64_t length) {
    std::string sql = fmt::format(
        "SELECT key, sum(count) AS n FROM report_count WHERE period = ? AND start_us >= ? AND start_us < ? "
        "AND kind = ?{} GROUP BY key ORDER BY n DESC, key LIMIT ?",
        q.node ? " AND node = ?" : "");
    auto st = db.prepare(sql);
    if (!st) return st.error();
    st->bind(1, q.by).bind(2, period_start(q.from_us, length)).bind(3, q.to_us).bind(4, def.kind);
    int i = 5;
    if (q.node) st->bind(i++, *q.node);
    st->bind(i, q.limit > 0 ? q.limit : 10);
    Report r{std::string(def.name), {{std::string(def.key_column), false}, {"count", true}}, {}};
    for (;;) {
        auto row = st->step();
        if (!row) return row.error();
        if (!*row) break;
        r.rows.push_back({st->text(0), std::to_string(st->int64(1))});
    }
    return r;
}

}  // namespace

std::span<const ReportInfo> report_list() { return all; }

const ReportInfo* find_report(std::string_view name) {
    for (const auto& r : all)
        if (r.name == name) return &r;
    return nullptr;
}

std::string period_label(std::int64_t start_us) {
    std::time_t t = static_cast<std::time_t>(period_start(start_us, 1000000) / 1000000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

Result<Report> run_report(store::Database& db, const Query& q) {
    if (q.by != "hour" && q.by != "day") return Error{fmt::format("Unknown period \"{}\": use hour or day", q.by)};
    std::int64_t length = q.by == "day" ? day_us : hour_us;
    for (const auto& s : series)
        if (s.name == q.name) return run_series(db, s, q, length);
    for (const auto& t : tops)
        if (t.name == q.name) return run_top(db, t, q, length);
    return Error{fmt::format("Unknown report \"{}\" (pmx report list shows them)", q.name)};
}

}  // namespace pmx::report
