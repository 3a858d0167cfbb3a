// pmx spam dnsbl-check: is this client address or URI host listed, and where? Runs the same
// lookups as pmx-milter, with the zones, nameservers and deadline of pmx.toml (or given here).
#include <fmt/format.h>

#include "commands.hpp"
#include "config/loader.hpp"
#include "output.hpp"
#include "spam/dnsbl/dnsbl.hpp"

namespace pmx::cli {

namespace {

namespace dnsbl = spam::dnsbl;

struct Options {
    std::string client;
    std::vector<std::string> uri_hosts;
    std::vector<std::string> ip_zones, uri_zones, nameservers;
    int timeout_ms = 0;  // 0: dnsbl.timeout_ms
};

std::string_view status_name(dnsbl::Lookup::Status s) {
    switch (s) {
        case dnsbl::Lookup::Status::Listed: return "listed";
        case dnsbl::Lookup::Status::NotListed: return "not_listed";
        case dnsbl::Lookup::Status::Timeout: return "timeout";
        case dnsbl::Lookup::Status::Error: return "error";
    }
    return "?";
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : std::string(sep)) + i;
    return out;
}

std::string json_strings(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ",") + json_quote(i);
    return "[" + out + "]";
}

std::vector<dnsbl::Zone> option_zones(const std::vector<std::string>& entries, dnsbl::ZoneKind kind,
                                      std::string_view option) {
    std::vector<dnsbl::Zone> out;
    for (const auto& e : entries) {
        auto z = dnsbl::parse_zone(e, kind);
        if (!z) throw CommandError(fmt::format("{} \"{}\": {}", option, e, z.error().message), 2);
        out.push_back(std::move(*z));
    }
    return out;
}

// pmx.toml's settings with the options' replacements; the options are checked first (usage errors).
dnsbl::Settings settings(const Options& o) {
    auto ip_zones = option_zones(o.ip_zones, dnsbl::ZoneKind::Ip, "--ip-zone");
    auto uri_zones = option_zones(o.uri_zones, dnsbl::ZoneKind::Uri, "--uri-zone");
    std::vector<std::string> nameservers;
    for (const auto& n : o.nameservers) {
        auto ns = dnsbl::normalize_nameserver(n);
        if (!ns) throw CommandError(fmt::format("--nameserver \"{}\": {}", n, ns.error().message), 2);
        nameservers.push_back(std::move(*ns));
    }

    auto snap = config::load(config::Layout::from_environment());
    if (!snap) throw CommandError(fmt::format("Failed to load the configuration:\n{}", snap.error().message));
    auto s = dnsbl::settings_from_config(*snap);
    if (!s) throw CommandError(fmt::format("Failed to read the DNS blocklist settings:\n{}", s.error().message));
    if (!o.ip_zones.empty()) s->ip_zones = std::move(ip_zones);
    if (!o.uri_zones.empty()) s->uri_zones = std::move(uri_zones);
    if (!o.nameservers.empty()) s->nameservers = std::move(nameservers);
    if (o.timeout_ms > 0) s->timeout = std::chrono::milliseconds(o.timeout_ms);
    return std::move(*s);
}

void run(Context& ctx, const Options& o) {
    if (o.client.empty() && o.uri_hosts.empty())
        throw CommandError("Nothing to look up: give --client IP and/or --uri-host HOST", 2);
    if (!o.client.empty() && !dnsbl::reversed_ip(o.client))
        throw CommandError(fmt::format("--client \"{}\" is not an IP address", o.client), 2);
    for (const auto& h : o.uri_hosts)
        if (dnsbl::uri_lookup_names(h).empty())
            throw CommandError(fmt::format("--uri-host \"{}\" is not a host name or IPv4 address with a registered domain", h), 2);

    auto s = settings(o);
    if (!o.client.empty() && s.ip_zones.empty())
        throw CommandError("No IP blocklists: set dnsbl.ip_zones in pmx.toml (see pmx.toml(5)) or give --ip-zone");
    if (!o.uri_hosts.empty() && s.uri_zones.empty())
        throw CommandError("No URI blocklists: set dnsbl.uri_zones in pmx.toml (see pmx.toml(5)) or give --uri-zone");
    if (!s.enabled && !ctx.quiet)
        fmt::print(stderr, "pmx: dnsbl.enabled is false: pmx-milter does not use these lists; looking up anyway\n");
    s.max_uri_hosts = std::max(s.max_uri_hosts, o.uri_hosts.size());  // every host asked for here

    dnsbl::Checker checker(s);
    auto report = checker.run(o.client, o.uri_hosts, s.timeout);
    double score = 0;
    for (const auto& h : report.hits) score += h.score;

    if (ctx.json) {
        std::string hits, lookups;
        for (const auto& h : report.hits)
            hits += fmt::format("{}{{\"name\":{},\"score\":{},\"description\":{}}}", hits.empty() ? "" : ",",
                                json_quote(h.name), h.score, json_quote(h.description));
        for (const auto& l : report.lookups)
            lookups += fmt::format(
                "{}{{\"kind\":\"{}\",\"zone\":{},\"subject\":{},\"query\":{},\"status\":\"{}\",\"answers\":{},"
                "\"rules\":{},\"cached\":{},\"error\":{}}}",
                lookups.empty() ? "" : ",", l.kind == dnsbl::ZoneKind::Ip ? "ip" : "uri", json_quote(l.zone),
                json_quote(l.subject), json_quote(l.query), status_name(l.status), json_strings(l.answers),
                json_strings(l.rules), l.cached ? "true" : "false", json_quote(l.error));
        fmt::print("{{\"score\":{:g},\"hits\":[{}],\"lookups\":[{}],\"elapsed_ms\":{}}}\n", score, hits, lookups,
                   report.elapsed.count());
        return;
    }
    if (ctx.quiet) return;
    Table t({"ZONE", "SUBJECT", "QUERY", "RESULT", "RULES"});
    for (const auto& l : report.lookups) {
        std::string result;
        switch (l.status) {
            case dnsbl::Lookup::Status::Listed: result = "listed " + join(l.answers, ","); break;
            case dnsbl::Lookup::Status::NotListed: result = "not listed"; break;
            case dnsbl::Lookup::Status::Timeout: result = "no answer in time"; break;
            case dnsbl::Lookup::Status::Error: result = "error: " + l.error; break;
        }
        t.add({l.zone, printable(l.subject), l.query, result, l.rules.empty() ? "-" : join(l.rules, ",")});
    }
    fmt::print("{}", t.render());
    fmt::print("\n{} lookup{} in {} ms; score {:g}{}\n", report.lookups.size(), report.lookups.size() == 1 ? "" : "s",
               report.elapsed.count(), score, report.hits.empty() ? " (not listed)" : ":");
    for (const auto& h : report.hits) fmt::print("  {:<20} {:>5}  {}\n", h.name, h.score, h.description);
}

}  // namespace

void add_spam_dnsbl_command(CLI::App& spam, Context& ctx) {
    auto o = std::make_shared<Options>();
    auto* cmd = spam.add_subcommand("dnsbl-check", "Look up a client address and URI hosts in the DNS blocklists");
    cmd->add_option("--client", o->client, "Client IP address (IPv4 or IPv6) to look up in dnsbl.ip_zones");
    cmd->add_option("--uri-host", o->uri_hosts, "Host name in a URI to look up in dnsbl.uri_zones (repeatable)");
    cmd->add_option("--ip-zone", o->ip_zones, "Use this IP zone entry instead of dnsbl.ip_zones (repeatable)");
    cmd->add_option("--uri-zone", o->uri_zones, "Use this URI zone entry instead of dnsbl.uri_zones (repeatable)");
    cmd->add_option("--nameserver", o->nameservers, "Ask this resolver instead of dnsbl.nameservers (repeatable)");
    cmd->add_option("--timeout", o->timeout_ms, "Milliseconds for all lookups together (default dnsbl.timeout_ms)")
        ->check(CLI::Range(1, 60000));
    cmd->footer("Zone entries: ZONE=MATCH:LABEL:SCORE[,...], e.g. zen.spamhaus.org=127.0.0.2:SBL:3.0 (see pmx.toml(5)).");
    cmd->callback([&ctx, o] { run(ctx, *o); });
}

}  // namespace pmx::cli
