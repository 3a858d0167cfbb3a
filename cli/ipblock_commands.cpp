// pmx ipblock test|list|add|remove|stats (pmx-ipblockd).
// Blocks live in the database: a running pmx-ipblockd picks up add/remove within a second.
// `test` judges on the spot the way the daemon does: the list files of the configuration,
// general.internal_networks and the database's blocks.
#include <fmt/format.h>

#include <optional>
#include <string>

#include "bus/bus.hpp"
#include "bus/daemon_client.hpp"
#include "commands.hpp"
#include "daemon_reload.hpp"
#include "config/loader.hpp"
#include "ipblock/block_store.hpp"
#include "ipblock/lists.hpp"
#include "output.hpp"
#include "services/registry.hpp"
#include "store/store_config.hpp"

namespace pmx::cli {

namespace {

constexpr std::int64_t kSecond = 1'000'000;

config::Snapshot load_config() {
    auto loaded = config::load(config::Layout::from_environment());
    if (!loaded) throw CommandError(fmt::format("Configuration is invalid:\n{}", loaded.error().message));
    return std::move(*loaded);
}

store::Database open_db() {
    auto db = store::open_configured_database();
    if (!db) throw CommandError(db.error().message);
    return std::move(*db);
}

// "3600", "90s", "30m", "2h", "7d", "1w" → seconds. 0 or empty: none.
std::optional<std::int64_t> parse_ttl(const std::string& text) {
    if (text.empty()) return std::nullopt;
    std::int64_t n = 0;
    std::size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        n = n * 10 + (text[i] - '0');
        if (n > 100LL * 365 * 86400) throw CommandError(fmt::format("--ttl {}: too long", text), 2);
    }
    std::string unit = text.substr(i);
    std::int64_t mult = 0;
    if (unit.empty() || unit == "s") mult = 1;
    else if (unit == "m" || unit == "min") mult = 60;
    else if (unit == "h") mult = 3600;
    else if (unit == "d") mult = 86400;
    else if (unit == "w") mult = 7 * 86400;
    if (i == 0 || mult == 0)
        throw CommandError(fmt::format("--ttl {}: expected a number with an optional unit s, m, h, d or w", text), 2);
    if (n * mult > 100LL * 365 * 86400) throw CommandError(fmt::format("--ttl {}: too long", text), 2);
    return n * mult;
}

std::string format_remaining(std::optional<std::int64_t> expires_us, std::int64_t now) {
    if (!expires_us) return "never";
    std::int64_t s = (*expires_us - now) / kSecond;
    if (s <= 0) return "expired";
    if (s < 120) return fmt::format("in {}s", s);
    if (s < 7200) return fmt::format("in {}min", s / 60);
    if (s < 2 * 86400) return fmt::format("in {}h", s / 3600);
    return fmt::format("in {}d", s / 86400);
}

ipblock::Network network_arg(const std::string& text) {
    auto n = ipblock::parse_network(text);
    if (!n) throw CommandError(n.error().message, 2);
    return *n;
}

std::string clean_reason(const std::string& reason) {
    std::string out;
    for (char c : reason) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? ' ' : c;
    if (out.size() > 200) throw CommandError("--reason is too long (at most 200 bytes)", 2);
    return out;
}

std::string row_json(const ipblock::BlockRow& r, std::int64_t now) {
    return fmt::format("{{\"network\":{},\"source\":{},\"reason\":{},\"added_us\":{},\"expires_us\":{},"
                       "\"active\":{},\"offenses\":{}}}",
                       json_quote(r.network), json_quote(r.source), json_quote(r.reason), r.added_us,
                       r.expires_us ? std::to_string(*r.expires_us) : "null", r.active(now) ? "true" : "false",
                       r.offenses);
}

void test(Context& ctx, const std::string& ip_text) {
    auto a = ipblock::parse_address(ip_text);
    if (!a) throw CommandError(fmt::format("\"{}\" is not an IPv4 or IPv6 address", ip_text), 2);
    auto cfg = load_config();
    auto dir = config::Layout::from_environment().config_dir;
    ipblock::ListFiles files;
    for (const auto& p : cfg.strings("ipblock.block_files")) files.block.push_back(dir / p);
    for (const auto& p : cfg.strings("ipblock.exception_files")) files.exception.push_back(dir / p);
    files.internal_networks = cfg.strings("general.internal_networks");
    std::vector<ipblock::ListProblem> problems;
    auto lists = ipblock::load_lists(files, problems);
    if (!lists) throw CommandError(lists.error().message);
    auto db = open_db();
    std::int64_t now = store::now_us();
    auto version = ipblock::block_version(db);
    if (!version) throw CommandError(version.error().message);
    auto rows = ipblock::read_blocks(db, false, now);
    if (!rows) throw CommandError(rows.error().message);
    auto blocks = ipblock::compile_blocks(std::move(*rows), *version, now);
    auto v = ipblock::decide(lists->get(), blocks.get(), *a, now);
    std::string ip = ipblock::format_address(*a);
    std::string reply = v.blocked() ? ipblock::reject_action(cfg.string("ipblock.reject_text"),
                                                             cfg.string("ipblock.lookup_url"), ip, v.reason)
                                    : "DUNNO";
    if (ctx.json) {
        fmt::print("{{\"ip\":{},\"blocked\":{},\"why\":{},\"entry\":{},\"list\":{},\"line\":{},\"reason\":{},"
                   "\"expires_us\":{},\"reply\":{}}}\n",
                   json_quote(ip), v.blocked() ? "true" : "false", json_quote(ipblock::why_name(v.why)),
                   json_quote(v.entry), json_quote(v.list), v.line, json_quote(v.reason),
                   v.expires_us ? std::to_string(*v.expires_us) : "null", json_quote(reply));
        return;
    }
    std::string where = v.line ? fmt::format("{}:{}", v.list, v.line) : v.list;
    switch (v.why) {
        case ipblock::Verdict::Why::NotListed: fmt::print("{}: not blocked (on no list)\n", ip); break;
        case ipblock::Verdict::Why::Internal:
            fmt::print("{}: not blocked: internal network {} (general.internal_networks) is never blocked\n", ip, v.entry);
            break;
        case ipblock::Verdict::Why::Exception:
            fmt::print("{}: not blocked: exception {} ({})\n", ip, v.entry, where);
            break;
        case ipblock::Verdict::Why::Manual:
        case ipblock::Verdict::Why::Dynamic:
            fmt::print("{}: blocked: {} block of {} in the database, expires {}: {}\n", ip, ipblock::why_name(v.why),
                       v.entry, format_remaining(v.expires_us, now), v.reason);
            break;
        case ipblock::Verdict::Why::ListFile: fmt::print("{}: blocked: {} is listed in {}\n", ip, v.entry, where); break;
    }
    if (!ctx.quiet) fmt::print("Postfix is answered: {}\n", reply);
}

void list(Context& ctx, bool all) {
    auto db = open_db();
    std::int64_t now = store::now_us();
    auto rows = ipblock::read_blocks(db, all, now);
    if (!rows) throw CommandError(rows.error().message);
    if (ctx.json) {
        std::string out = "[";
        for (const auto& r : *rows) out += (out.size() > 1 ? ",\n " : "") + row_json(r, now);
        fmt::print("{}]\n", out);
        return;
    }
    if (rows->empty()) {
        if (!ctx.quiet) fmt::print("No {}blocks in the database.\n", all ? "" : "active ");
        return;
    }
    Table t({"NETWORK", "SOURCE", "ADDED", "EXPIRES", "OFFENSES", "REASON"});
    for (const auto& r : *rows)
        t.add({r.network, r.source, format_timestamp_usec(static_cast<unsigned long long>(r.added_us)),
               format_remaining(r.expires_us, now), std::to_string(r.offenses), printable(r.reason)});
    fmt::print("{}", t.render());
}

void add(Context& ctx, const std::string& target, const std::string& ttl_text, const std::string& reason) {
    auto n = network_arg(target);
    auto ttl = parse_ttl(ttl_text);
    auto cfg = load_config();
    for (const auto& text : cfg.strings("general.internal_networks")) {
        auto in = ipblock::parse_network(text);
        if (in && in->contains(n.base))
            fmt::print(stderr, "Note: {} is in the internal network {} (general.internal_networks), which is never "
                               "blocked.\n", ipblock::format_network(n), text);
    }
    auto db = open_db();
    std::int64_t now = store::now_us();
    ipblock::BlockRow row{.network = ipblock::format_network(n),
                          .source = "manual",
                          .reason = clean_reason(reason),
                          .added_us = now,
                          .expires_us = ttl ? std::optional<std::int64_t>(now + *ttl * kSecond) : std::nullopt,
                          .offenses = 1};
    auto prior = ipblock::find_block(db, row.network);
    if (!prior) throw CommandError(prior.error().message);
    if (auto r = ipblock::put_block(db, row); !r) throw CommandError(r.error().message);
    if (ctx.json) {
        fmt::print("{}\n", row_json(row, now));
        return;
    }
    if (!ctx.quiet)
        fmt::print("{} {}, expires {}{}\n", *prior && (*prior)->active(now) ? "Updated the block of" : "Blocked",
                   row.network, format_remaining(row.expires_us, now), " (pmx-ipblockd applies it within a second)");
}

void remove(Context& ctx, const std::string& target) {
    auto n = network_arg(target);
    auto db = open_db();
    auto removed = ipblock::remove_block(db, ipblock::format_network(n), "pmx ipblock remove");
    if (!removed) throw CommandError(removed.error().message);
    if (!*removed)
        throw CommandError(fmt::format("{} is not blocked in the database (list files are edited by hand)",
                                       ipblock::format_network(n)));
    if (!ctx.quiet && !ctx.json) fmt::print("Unblocked {}\n", ipblock::format_network(n));
    if (ctx.json) fmt::print("{{\"removed\":{}}}\n", json_quote(ipblock::format_network(n)));
}

void stats(Context& ctx) {
    auto db = open_db();
    std::int64_t now = store::now_us();
    auto rows = ipblock::read_blocks(db, true, now);
    if (!rows) throw CommandError(rows.error().message);
    std::int64_t manual = 0, dynamic = 0, expired = 0;
    for (const auto& r : *rows) {
        if (!r.active(now)) ++expired;
        else if (r.source == "dynamic") ++dynamic;
        else ++manual;
    }
    auto events = ipblock::count_events(db, now - 86400 * kSecond);
    if (!events) throw CommandError(events.error().message);
    std::vector<std::pair<std::string, std::uint64_t>> counters;
    std::string daemon_error;
    if (auto bus = bus::open(ctx.scope()); bus) {
        const auto* svc = find_service("ipblockd");
        auto st = bus::read_daemon_status(bus->get(), svc->bus_name);
        if (st) counters = st->counters;
        else daemon_error = st.error().message;
    } else {
        daemon_error = bus.error().message;
    }
    if (ctx.json) {
        std::string ev = "[";
        for (const auto& e : *events)
            ev += fmt::format("{}{{\"action\":{},\"source\":{},\"count\":{}}}", ev.size() > 1 ? "," : "",
                              json_quote(e.action), json_quote(e.source), e.count);
        std::string ct = "{";
        for (const auto& [k, v] : counters) ct += fmt::format("{}{}:{}", ct.size() > 1 ? "," : "", json_quote(k), v);
        ct += "}";
        fmt::print("{{\"active_manual\":{},\"active_dynamic\":{},\"expired_remembered\":{},\"events_24h\":{}],"
                   "\"daemon\":{}}}\n",
                   manual, dynamic, expired, ev, daemon_error.empty() ? ct : "null");
        return;
    }
    fmt::print("Active blocks: {} manual, {} dynamic; {} expired dynamic block(s) remembered for repeat offenders\n",
               manual, dynamic, expired);
    std::string last;
    for (const auto& e : *events) last += fmt::format("{}{} {} {}", last.empty() ? "" : ", ", e.count, e.source, e.action);
    fmt::print("Last 24 hours: {}\n", last.empty() ? "no block events" : last);
    if (!daemon_error.empty()) {
        fmt::print("pmx-ipblockd: not reachable ({})\n", daemon_error);
        return;
    }
    Table t({"COUNTER", "VALUE"});
    for (const auto& [k, v] : counters) t.add({k, std::to_string(v)});
    fmt::print("pmx-ipblockd since its start:\n{}", t.render());
}

}  // namespace

void add_ipblock_commands(CLI::App& app, Context& ctx) {
    auto* ip = app.add_subcommand("ipblock", "IP Blocker: test, list, add and remove blocked client addresses");
    ip->require_subcommand(1);
    ip->footer("See pmx-ipblock(1).");

    static std::string test_ip;
    auto* t = ip->add_subcommand("test", "Say whether a client address is blocked, and why");
    t->add_option("IP", test_ip, "IPv4 or IPv6 address")->required();
    t->callback([&ctx] { test(ctx, test_ip); });

    static bool list_all = false;
    auto* l = ip->add_subcommand("list", "List the blocks in the database (manual and dynamic)");
    l->add_flag("--all", list_all, "Also expired dynamic blocks (kept to lengthen a repeat offender's next block)");
    l->callback([&ctx] { list(ctx, list_all); });

    static std::string add_target, add_ttl, add_reason;
    auto* a = ip->add_subcommand("add", "Block an address or CIDR network (reaches pmx-ipblockd within a second)");
    a->add_option("IP_OR_CIDR", add_target, "192.0.2.7, 198.51.100.0/24, 2001:db8::/32")->required();
    a->add_option("--ttl", add_ttl, "How long: 3600, 30m, 2h, 7d, 1w (default: until removed)");
    a->add_option("--reason", add_reason, "Shown in the reject text ({reason}) and in pmx ipblock list");
    a->callback([&ctx] { add(ctx, add_target, add_ttl, add_reason); });

    static std::string remove_target;
    auto* r = ip->add_subcommand("remove", "Remove a block from the database (manual or dynamic)");
    r->add_option("IP_OR_CIDR", remove_target, "As listed by pmx ipblock list")->required();
    r->callback([&ctx] { remove(ctx, remove_target); });

    auto* s = ip->add_subcommand("stats", "Blocks in the database, the last day's block log and the daemon's counters");
    s->callback([&ctx] { stats(ctx); });

    auto* reload_cmd = ip->add_subcommand("reload", "Read the block and exception list files again now (no restart)");
    reload_cmd->footer("Calls pmx-ipblockd's Reload() over D-Bus: what the ipblock-reload job runs.");
    reload_cmd->callback([&ctx] { reload_daemon_directly(ctx, "ipblockd"); });
}

}  // namespace pmx::cli
