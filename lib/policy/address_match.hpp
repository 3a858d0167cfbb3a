// Matching addresses, domains, hostnames and IP addresses against the patterns an admin writes
// in policy.toml, [groups] and the allow/block lists. One set of rules for all of them, so a list
// entry and a policy condition written the same way match the same senders.
//
// Address patterns (case-insensitive):
//   user@example.com    exactly this address
//   example.com         any address at exactly this domain (also written "@example.com")
//   .example.com        any address at example.com or any subdomain of it
//   postmaster@         this local part at any domain
//   *@spam.example      wildcards: * any run of characters, ? one character (whole address;
//   *.example.com       without an "@" the wildcard is matched against the domain)
//   <>                  the null sender (bounces)
// Hostname patterns: "mail.example.com" exactly, ".example.com" the domain and its subdomains,
// wildcards as above; "unknown" matches a client without a verified hostname.
// Networks: an IPv4 or IPv6 address, or a CIDR range; IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// match IPv4 ranges.
//
// Matching never allocates: patterns are stored lowercased and compared case-insensitively.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::policy {

// ASCII case-insensitive equality; the text of pattern is already lowercase.
bool iequals(std::string_view a, std::string_view b);
// ASCII lowercase copy.
std::string to_lower(std::string_view s);
// Wildcard match, '*' any run (also empty), '?' one byte; pattern lowercase, text any case.
bool glob_match(std::string_view pattern, std::string_view text);
// The domain of an address: after the last '@'; "" when there is none.
std::string_view domain_of(std::string_view address);
// The local part: before the last '@'; the whole text when there is no '@'.
std::string_view local_part_of(std::string_view address);

class AddressPattern {
public:
    enum class Kind : std::uint8_t { Exact, Domain, DomainTree, LocalPart, Wildcard, WildcardDomain, NullSender };

    // Errors say what is wrong with the text ("empty pattern", "spaces are not allowed").
    static Result<AddressPattern> parse(std::string_view text);

    bool matches(std::string_view address) const;
    Kind kind() const { return kind_; }
    const std::string& text() const { return written_; }  // as written, for traces

private:
    Kind kind_ = Kind::Exact;
    std::string key_;      // lowercased: the address, domain (without dot), local part or wildcard
    std::string written_;
};

// Domain test with the same forms, for general.internal_domains: "example.com", ".example.com", "*.example".
class DomainPattern {
public:
    static Result<DomainPattern> parse(std::string_view text);
    bool matches(std::string_view domain) const;
    const std::string& text() const { return written_; }

private:
    enum class Kind : std::uint8_t { Exact, Tree, Wildcard } kind_ = Kind::Exact;
    std::string key_;
    std::string written_;
};

class HostnamePattern {
public:
    static Result<HostnamePattern> parse(std::string_view text);
    // hostname "" or "unknown" means "no verified hostname": only the pattern "unknown" matches it.
    bool matches(std::string_view hostname) const;
    const std::string& text() const { return written_; }

private:
    DomainPattern domain_;
    bool unknown_ = false;
    std::string written_;
};

// An IPv4 or IPv6 address, IPv4 stored as IPv4-mapped IPv6 so one range type covers both.
struct IpAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool v4 = false;
    static std::optional<IpAddress> parse(std::string_view text);
};

class Cidr {
public:
    // "192.0.2.0/24", "2001:db8::/32", or a single address.
    static Result<Cidr> parse(std::string_view text);
    bool contains(const IpAddress& ip) const;
    const std::string& text() const { return written_; }

private:
    IpAddress net_;
    int prefix_ = 0;  // in bits of the 128-bit form
    std::string written_;
};

// Addresses of a header like To or Cc: "A <a@x>, \"B, C\" <b@y>, c@z, undisclosed-recipients:;".
// Each result is the addr-spec, without comments and angle brackets; entries without "@" are skipped.
std::vector<std::string> extract_addresses(std::string_view header_value);

}  // namespace pmx::policy
