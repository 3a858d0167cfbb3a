// The lookups of one message: every name sent at once on a private c-ares channel, answers
// collected with poll() until the message's deadline, then the channel is destroyed and whatever
// has not answered counts as a timeout. One channel per call keeps calls independent (thread-safe
// without locks) and a slow zone cannot hold up the next message.
#include <ares.h>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <cerrno>
#include <cstring>
#include <set>
#include <unordered_map>

#include "spam/dnsbl/dnsbl.hpp"
#include "util/text.hpp"

namespace pmx::spam::dnsbl {

namespace {

using Clock = std::chrono::steady_clock;

void library_init() {
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// One name sent to the DNS, shared by every lookup that asks for it.
struct Query {
    std::string name;
    Lookup::Status status = Lookup::Status::Timeout;  // until an answer arrives
    std::vector<std::uint32_t> answers;               // host byte order
    std::string error;
    bool cached = false;
    bool done = false;
};

struct Pending {
    std::vector<Query> queries;
    std::size_t outstanding = 0;
    std::map<ares_socket_t, short> sockets;  // fd -> poll events, kept by the socket state callback
    Cache* cache = nullptr;
    bool accepting = true;  // false once the deadline passed: late answers are dropped
};

struct Call {
    Pending* pending;
    std::size_t index;
};

void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) noexcept {
    auto* p = static_cast<Pending*>(data);
    short events = static_cast<short>((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    if (events) p->sockets[fd] = events;
    else p->sockets.erase(fd);
}

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) noexcept {
    std::unique_ptr<Call> call(static_cast<Call*>(arg));
    Pending& p = *call->pending;
    Query& q = p.queries[call->index];
    --p.outstanding;
    if (q.done) return;  // already given up on (fail_all)
    q.done = true;
    if (!p.accepting || status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
        q.status = Lookup::Status::Timeout;
        return;
    }
    try {
        if (status == ARES_SUCCESS) {
            ares_addrttl ttls[32];
            int n = 32;
            int parsed = ares_parse_a_reply(abuf, alen, nullptr, ttls, &n);
            if (parsed == ARES_SUCCESS) {
                int min_ttl = n > 0 ? ttls[0].ttl : 0;
                for (int i = 0; i < n; ++i) {
                    q.answers.push_back(ntohl(ttls[i].ipaddr.s_addr));
                    min_ttl = std::min(min_ttl, ttls[i].ttl);
                }
                q.status = q.answers.empty() ? Lookup::Status::NotListed : Lookup::Status::Listed;
                if (p.cache) p.cache->store(q.name, q.answers, std::chrono::seconds(std::max(min_ttl, 0)), Clock::now());
                return;
            }
            status = parsed;  // e.g. ARES_ENODATA: a CNAME without an A record
        }
        if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
            q.status = Lookup::Status::NotListed;
            if (p.cache) p.cache->store(q.name, {}, std::chrono::seconds(0), Clock::now());
        } else if (status == ARES_ETIMEOUT) {
            q.status = Lookup::Status::Timeout;
        } else {
            q.status = Lookup::Status::Error;
            q.error = ares_strerror(status);
        }
    } catch (...) {  // out of memory: no answer rather than a crash in a C callback
        q.status = Lookup::Status::Error;
        q.error = "out of memory";
    }
}

// RAII for the channel; destroying it calls every outstanding callback with ARES_EDESTRUCTION.
struct Channel {
    ares_channel ch = nullptr;
    ~Channel() {
        if (ch) ares_destroy(ch);
    }
};

std::string dotted(std::uint32_t a) {
    return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

// Sends every query not answered from the cache and waits for them until `deadline`.
void resolve(const Settings& settings, Pending& pending, Clock::time_point deadline,
             std::chrono::milliseconds timeout) {
    library_init();
    Channel channel;
    ares_options opts{};
    opts.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    // Two tries: c-ares doubles the second, so both fit in the message's budget (a lost UDP packet
    // gets a second chance); the deadline below cuts off whatever is left anyway.
    opts.timeout = static_cast<int>(std::max<std::int64_t>(timeout.count() / 3, 10));
    opts.tries = 2;
    opts.sock_state_cb = on_socket_state;
    opts.sock_state_cb_data = &pending;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    auto fail_all = [&](const std::string& why) {
        for (auto& q : pending.queries)
            if (!q.done) {
                q.status = Lookup::Status::Error;
                q.error = why;
                q.done = true;
            }
    };
    int rc = ares_init_options(&channel.ch, &opts, mask);
    if (rc != ARES_SUCCESS) {
        channel.ch = nullptr;
        return fail_all(fmt::format("cannot set up the resolver: {}", ares_strerror(rc)));
    }
    if (!settings.nameservers.empty()) {
        std::string csv;
        for (const auto& ns : settings.nameservers) csv += (csv.empty() ? "" : ",") + ns;
        rc = ares_set_servers_ports_csv(channel.ch, csv.c_str());
        if (rc != ARES_SUCCESS) return fail_all(fmt::format("bad nameservers \"{}\": {}", csv, ares_strerror(rc)));
    }

    for (std::size_t i = 0; i < pending.queries.size(); ++i) {
        auto& q = pending.queries[i];
        if (q.done) continue;
        ++pending.outstanding;
        // May call back at once (e.g. a name c-ares refuses); the counter is already up.
        ares_query(channel.ch, q.name.c_str(), 1 /* C_IN */, 1 /* T_A */, on_answer, new Call{&pending, i});
    }

    std::vector<pollfd> fds;
    while (pending.outstanding > 0) {
        auto now = Clock::now();
        if (now >= deadline) break;
        auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - now);
        timeval max_tv{static_cast<time_t>(left.count() / 1000000), static_cast<suseconds_t>(left.count() % 1000000)};
        timeval tv{};
        ares_timeout(channel.ch, &max_tv, &tv);
        int wait_ms = static_cast<int>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);

        fds.clear();
        for (const auto& [fd, events] : pending.sockets) fds.push_back({fd, events, 0});
        int n = poll(fds.data(), fds.size(), wait_ms);
        if (n < 0 && errno != EINTR) return fail_all(fmt::format("poll failed: {}", strerror(errno)));
        for (const auto& f : fds) {
            if (!f.revents) continue;
            bool readable = f.revents & (POLLIN | POLLERR | POLLHUP);
            bool writable = f.revents & POLLOUT;
            ares_process_fd(channel.ch, readable ? f.fd : ARES_SOCKET_BAD, writable ? f.fd : ARES_SOCKET_BAD);
        }
        ares_process_fd(channel.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retries and timeouts
    }
    pending.accepting = false;  // ~Channel now cancels the rest
}

}  // namespace

Checker::Checker(Settings settings)
    : Checker(settings, std::make_shared<Cache>(settings.cache_entries, settings.cache_ttl)) {}

Checker::Checker(Settings settings, std::shared_ptr<Cache> cache)
    : settings_(std::move(settings)), cache_(std::move(cache)) {
    if (!cache_ || cache_->capacity() != settings_.cache_entries || cache_->max_ttl() != settings_.cache_ttl)
        cache_ = std::make_shared<Cache>(settings_.cache_entries, settings_.cache_ttl);
}

std::vector<spam::Hit> Checker::check(std::string_view client_ip, const std::vector<std::string>& uri_hosts,
                                      std::chrono::milliseconds timeout) const {
    if (!settings_.enabled || !settings_.has_zones()) return {};
    return run(client_ip, uri_hosts, timeout).hits;
}

Report Checker::run(std::string_view client_ip, const std::vector<std::string>& uri_hosts,
                    std::chrono::milliseconds timeout) const {
    auto start = Clock::now();
    auto deadline = start + timeout;
    Report report;

    // The lookups, in the order hits are reported: client zones, then each host in each URI zone.
    struct Planned {
        Lookup lookup;
        const Zone* zone;
        std::string listed_name;  // what the description says is listed: the IP or the domain
        std::size_t query;
    };
    std::vector<Planned> plan;
    Pending pending;
    pending.cache = cache_.get();
    std::unordered_map<std::string, std::size_t> by_name;
    auto add = [&](const Zone& zone, std::string subject, const std::string& name, std::string listed) {
        std::string full = name + "." + zone.name;
        if (full.size() > 253) return;
        auto [it, fresh] = by_name.emplace(full, pending.queries.size());
        if (!fresh) return;  // two hosts with one registered domain: asked and reported once
        Query q;
        q.name = full;
        pending.queries.push_back(std::move(q));
        Lookup l;
        l.kind = zone.kind;
        l.zone = zone.name;
        l.subject = std::move(subject);
        l.query = full;
        plan.push_back({std::move(l), &zone, std::move(listed), it->second});
    };

    if (auto rev = client_ip.empty() ? std::nullopt : reversed_ip(client_ip))
        for (const auto& zone : settings_.ip_zones) add(zone, std::string(client_ip), *rev, std::string(trim(client_ip)));

    std::set<std::string> seen_hosts;
    for (const auto& host : uri_hosts) {
        if (seen_hosts.size() >= settings_.max_uri_hosts) break;
        auto names = uri_lookup_names(host);
        if (names.empty() || !seen_hosts.insert(ascii_lower(trim(host))).second) continue;
        for (const auto& zone : settings_.uri_zones)
            for (const auto& n : names) {
                // A reversed IP literal is described by the host as written.
                bool literal = names.size() == 1 && reversed_ip(host).has_value();
                add(zone, host, n, literal ? std::string(trim(host)) : n);
            }
    }

    auto now = Clock::now();
    for (auto& q : pending.queries)
        if (auto hit = cache_ ? cache_->find(q.name, now) : std::nullopt) {
            q.answers = std::move(*hit);
            q.status = q.answers.empty() ? Lookup::Status::NotListed : Lookup::Status::Listed;
            q.cached = q.done = true;
        }
    bool any_open = std::any_of(pending.queries.begin(), pending.queries.end(), [](const Query& q) { return !q.done; });
    if (any_open && timeout.count() > 0) resolve(settings_, pending, deadline, timeout);

    std::set<std::string> rules_hit;
    for (auto& p : plan) {
        const Query& q = pending.queries[p.query];
        p.lookup.status = q.status;
        p.lookup.cached = q.cached;
        p.lookup.error = q.error;
        for (auto a : q.answers) p.lookup.answers.push_back(dotted(a));
        for (const auto& m : p.zone->matches) {
            auto answer = std::find_if(q.answers.begin(), q.answers.end(), [&](std::uint32_t a) { return m.matches(a); });
            if (answer == q.answers.end()) continue;
            p.lookup.rules.push_back(m.rule);
            if (!rules_hit.insert(m.rule).second) continue;  // one rule counts once per message
            report.hits.push_back({.name = m.rule,
                                   .score = m.score,
                                   .description = fmt::format("{} {} listed in {} ({}: {})",
                                                              p.zone->kind == ZoneKind::Ip ? "client" : "URI host",
                                                              p.listed_name, p.zone->name, dotted(*answer), m.label)});
        }
        report.lookups.push_back(std::move(p.lookup));
    }
    report.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return report;
}

}  // namespace pmx::spam::dnsbl
