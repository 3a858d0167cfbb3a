// DNS blocklists: the client address looked up in IP zones (zen.spamhaus.org style) and the
// message's URI hosts in domain zones (dbl.spamhaus.org, multi.uribl.com style). Every lookup of a
// message is sent at once over c-ares and collected until one deadline for the whole message;
// later answers are dropped, so a dead zone costs the milter at most that deadline.
//
// Zones come from pmx.toml as strings (the schema has no tables), one zone per entry:
//
//   ZONE=MATCH:LABEL:SCORE[,MATCH:LABEL:SCORE...]
//
//   MATCH   127.0.0.2            the answer is exactly this address
//           127.0.0.4-127.0.0.7  the answer is in this inclusive range
//           &0x0c or &12         the answer is 127.0.0.X and X & mask is not 0 (SURBL/URIBL bits)
//           any                  any answer in 127.0.0.0/8 except 127.255.255.0/24 (the error
//                                codes Spamhaus returns to public resolvers and over-quota users)
//   LABEL   letters, digits, _: the hit is RCVD_IN_<LABEL> for IP zones, URIBL_<LABEL> for URI zones
//   SCORE   points the hit adds (may be negative), e.g. 2.5
//
// Answers outside 127.0.0.0/8 never match (a resolver that rewrites NXDOMAIN to an ad server).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "spam/hit.hpp"
#include "util/result.hpp"

namespace pmx::config {
class Snapshot;
}

namespace pmx::spam::dnsbl {

enum class ZoneKind { Ip, Uri };

// One MATCH:LABEL:SCORE of a zone entry.
struct Match {
    enum class Kind { Exact, Range, Mask, Any };
    Kind kind = Kind::Exact;
    std::uint32_t low = 0, high = 0;  // Exact: low == high; Range: inclusive (host byte order)
    std::uint32_t mask = 0;           // Mask: bits of the last octet
    std::string label;                // "SBL" (upper-cased)
    std::string rule;                 // "RCVD_IN_SBL" / "URIBL_DBL"
    double score = 0;

    bool matches(std::uint32_t answer) const;  // answer in host byte order
};

struct Zone {
    std::string name;  // "zen.spamhaus.org", lower case, no trailing dot
    ZoneKind kind = ZoneKind::Ip;
    std::vector<Match> matches;
};

// Parses one entry of dnsbl.ip_zones / dnsbl.uri_zones. The error says what is wrong with which
// part of the entry (the caller adds the key and where it was set).
Result<Zone> parse_zone(std::string_view entry, ZoneKind kind);

struct Settings {
    bool enabled = true;
    std::vector<std::string> nameservers;        // "IP", "IP:PORT", "[IPv6]:PORT"; empty: /etc/resolv.conf
    std::chrono::milliseconds timeout{1500};     // for all lookups of one message together
    std::chrono::seconds cache_ttl{300};         // longest an answer is reused (also bounds the DNS TTL); 0: no cache
    std::size_t cache_entries = 10000;           // most names cached; least recently used go first
    std::size_t max_uri_hosts = 20;              // URI hosts looked up per message, first ones win
    std::vector<Zone> ip_zones;
    std::vector<Zone> uri_zones;

    bool has_zones() const { return !ip_zones.empty() || !uri_zones.empty(); }
};

// One nameserver as c-ares takes it: "192.0.2.53" -> "192.0.2.53:53", "::1" or "[::1]" -> "[::1]:53",
// "[::1]:5353" stays. Error for anything else (a host name, a bad port).
Result<std::string> normalize_nameserver(std::string_view text);

// The dnsbl.* keys of a snapshot. Errors name the file, line, key and the bad entry, e.g.
// "/etc/pmx/pmx.toml:7:1: dnsbl.ip_zones: entry \"zen.test=127.0.0.2:SBL\": missing SCORE ...".
Result<Settings> settings_from_config(const config::Snapshot& snapshot);

// ---- Query names (exposed for tests and the CLI) ----

// "127.0.0.2" -> "2.0.0.127", "2001:db8::1" -> "1.0.0.0....8.b.d.0.1.0.0.2" (32 nibbles);
// nullopt when the text is not an IP address.
std::optional<std::string> reversed_ip(std::string_view ip);

// The registered domain of a host name without a public-suffix list: the last two labels, or the
// last three when the last two are a known multi-label suffix (co.uk, com.au, ...). Lower case.
// nullopt when the host is not a valid DNS name or is itself a suffix.
std::optional<std::string> registered_domain(std::string_view host);

// The names one URI host is looked up as, in a URI zone (without the zone): the registered domain
// and, when longer, the host itself (at most two names, so an attacker's deep host names cost
// nothing extra); an IPv4 literal host as its reversed address. Empty when the host is not usable.
std::vector<std::string> uri_lookup_names(std::string_view host);

// ---- The cache (exposed for tests) ----

// Answers by query name, positive (the 127.x addresses) and negative (NXDOMAIN / no A record).
// Failures and timeouts are never cached. Thread-safe; holds at most `capacity` names.
class Cache {
public:
    using Clock = std::chrono::steady_clock;
    Cache(std::size_t capacity, std::chrono::seconds max_ttl);

    // The cached answers (empty vector: cached as not listed), or nullopt when absent or expired.
    std::optional<std::vector<std::uint32_t>> find(const std::string& name, Clock::time_point now);
    // ttl is the DNS TTL (bounded by max_ttl; negative answers are kept for max_ttl).
    void store(const std::string& name, std::vector<std::uint32_t> answers, std::chrono::seconds ttl,
               Clock::time_point now);
    std::size_t size() const;
    std::size_t capacity() const;
    std::chrono::seconds max_ttl() const;

private:
    struct Impl;
    std::shared_ptr<Impl> impl_;
};

// ---- The checker ----

// What happened to one lookup (for `pmx spam dnsbl-check` and logs).
struct Lookup {
    enum class Status { Listed, NotListed, Timeout, Error };
    ZoneKind kind = ZoneKind::Ip;
    std::string zone;
    std::string subject;                // the client IP or the URI host as given
    std::string query;                  // "2.0.0.127.zen.test"
    Status status = Status::NotListed;  // Listed: the name has A records (they may match no rule)
    std::vector<std::string> answers;   // "127.0.0.2"
    std::vector<std::string> rules;     // the rules the answers matched
    bool cached = false;
    std::string error;                  // Status::Error: c-ares' reason
};

struct Report {
    std::vector<spam::Hit> hits;  // one per rule name, in lookup order
    std::vector<Lookup> lookups;
    std::chrono::milliseconds elapsed{0};
};

class Checker {
public:
    explicit Checker(Settings settings);
    // Shares a cache, e.g. the previous checker's across a reload (a new one when the cache
    // settings changed, or when cache is null).
    Checker(Settings settings, std::shared_ptr<Cache> cache);

    const Settings& settings() const { return settings_; }
    const std::shared_ptr<Cache>& cache() const { return cache_; }

    // Looks up client_ip (empty: none; the caller skips internal networks) in every IP zone and
    // each of the first max_uri_hosts uri_hosts in every URI zone, all at once; returns within
    // `timeout` (answers arriving later are dropped). Nothing when disabled. Thread-safe.
    std::vector<spam::Hit> check(std::string_view client_ip, const std::vector<std::string>& uri_hosts,
                                 std::chrono::milliseconds timeout) const;
    std::vector<spam::Hit> check(std::string_view client_ip, const std::vector<std::string>& uri_hosts) const {
        return check(client_ip, uri_hosts, settings_.timeout);
    }

    // The same with every lookup's outcome (runs even when dnsbl.enabled is false).
    Report run(std::string_view client_ip, const std::vector<std::string>& uri_hosts,
               std::chrono::milliseconds timeout) const;

private:
    Settings settings_;
    std::shared_ptr<Cache> cache_;
};

}  // namespace pmx::spam::dnsbl
