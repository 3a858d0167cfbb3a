// Allow/block list patterns: what they mean, how they are written down, how they match.
// Pure functions, no database: lists_store.hpp keeps the entries, DatabaseLists uses
// CompiledList to answer the policy.
//
// Sender patterns (matched against the envelope sender, MAIL FROM), case-insensitive:
//   user@example.com     that address
//   example.com          any address at that domain (also written "@example.com")
//   .example.com         any address at that domain or any of its subdomains ("@.example.com")
//   postmaster@          that local part at any domain
//   *@spam.example       wildcards: "*" any run of characters (also none), "?" one character;
//   news-*@*             a pattern with "@" is matched against the whole address,
//   *.example.com        one without "@" against the domain part only
//   <>                   the null sender (bounces); nothing else matches the null sender
// Host patterns (matched against the SMTP client), case-insensitive:
//   192.0.2.7, 2001:db8::7        that address (IPv4-mapped IPv6 clients match IPv4 entries)
//   192.0.2.0/24, 2001:db8::/32   a network (host bits are cleared: 192.0.2.7/24 is stored as 192.0.2.0/24)
//   mx.example.com                that verified client host name
//   .example.com                  that name or any name under it
//   *.example.com, mx?.example.*  wildcards as above, on the host name
//   unknown                       a client without a verified host name (the MTA says "unknown")
// Other host name patterns never match a client without a verified name.
// These are the forms of policy conditions too (lib/policy/address_match.hpp); a unit test
// checks that both answer alike.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace pmx::store {

enum class EntryType { Sender, Host };

std::string_view type_name(EntryType type);                   // "sender", "host"
std::optional<EntryType> parse_type(std::string_view text);  // "sender" | "host"

// The canonical form of a pattern, as stored and compared for duplicates: lowercase,
// "@domain" written "domain", "<user@x>" written "user@x", networks with host bits cleared,
// IPv6 in its compressed form, "/32" and "/128" dropped, host names without a trailing dot.
// The error says what is wrong with the pattern.
Result<std::string> normalize_pattern(EntryType type, std::string_view pattern);

// The type a pattern has when the user did not say: "<>" or anything with "@" is a sender,
// an IP address or network is a host; anything else (a domain) is taken as a sender domain,
// with certain = false, because it could also be a client host name.
struct InferredType {
    EntryType type = EntryType::Sender;
    bool certain = false;
};
InferredType infer_type(std::string_view pattern);

// What a normalized pattern means, in words: "address", "domain and its subdomains", "IPv4 network", ...
std::string_view describe_pattern(EntryType type, std::string_view normalized);

// "*" any run of bytes (also none), "?" exactly one byte; everything else literally.
bool glob_match(std::string_view pattern, std::string_view text);

// One normalized pattern against one sender ("" or "<>" is the null sender; case does not matter).
bool sender_matches(std::string_view pattern, std::string_view sender);
// One normalized host pattern against a client: IP patterns against ip, name patterns against hostname.
bool host_matches(std::string_view pattern, std::string_view ip, std::string_view hostname);

// The client IP as the lists compare it: "IPv6:" prefix, brackets and zone dropped,
// IPv4-mapped IPv6 turned into IPv4, canonical text. nullopt when it is not an address.
std::optional<std::string> normalize_client_ip(std::string_view ip);

// A list's patterns prepared for lookups that do not depend on how many entries it holds:
// hash maps for addresses, local parts, domains and host names, one hash map per prefix
// length for networks; only wildcard patterns are tried one by one.
class CompiledList {
public:
    // Takes a normalized pattern (as stored); false when it is not valid for the type.
    bool add(EntryType type, std::string_view normalized);

    // The pattern that matched (as added), or nullptr. Valid as long as the list.
    const std::string* sender_entry(std::string_view sender) const;
    const std::string* host_entry(std::string_view ip, std::string_view hostname) const;
    bool sender_matches(std::string_view sender) const { return sender_entry(sender) != nullptr; }
    bool host_matches(std::string_view ip, std::string_view hostname) const { return host_entry(ip, hostname) != nullptr; }

    std::size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

private:
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    // key (address, domain, name) -> the pattern as added
    using StringMap = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;
    struct V6 {
        std::uint64_t hi, lo;
        bool operator==(const V6&) const = default;
    };
    struct V6Hash {
        std::size_t operator()(const V6& v) const noexcept { return std::hash<std::uint64_t>{}(v.hi * 31 + v.lo); }
    };

    static const std::string* find(const StringMap& map, std::string_view key);
    static const std::string* find_in_tree(const StringMap& map, std::string_view domain);
    static const std::string* find_below(const StringMap& map, std::string_view domain);
    // "*.example.com" (and "*@*.example.com"): a subdomain of example.com, not example.com itself
    static std::optional<std::string_view> subdomain_glob(std::string_view pattern);
    static const std::string* find_glob(const std::vector<std::string>& globs, std::string_view text);

    std::size_t size_ = 0;
    std::string null_sender_;   // "<>" when listed
    std::string unknown_host_;  // "unknown" when listed
    StringMap addresses_, local_parts_, domains_, domain_trees_, subdomains_;
    std::vector<std::string> address_globs_, domain_globs_;
    std::vector<std::pair<int, std::unordered_map<std::uint32_t, std::string>>> v4_;  // prefix length -> networks
    std::vector<std::pair<int, std::unordered_map<V6, std::string, V6Hash>>> v6_;
    StringMap hosts_, host_trees_, host_subdomains_;
    std::vector<std::string> host_globs_;
};

}  // namespace pmx::store
