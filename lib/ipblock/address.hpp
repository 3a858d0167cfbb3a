// IP addresses and CIDR networks as the IP Blocker compares them.
//
// One type for both families: an IPv4 address is kept as its IPv4-mapped IPv6 form
// (::ffff:a.b.c.d) with v4 set, so "::ffff:192.0.2.1" from a dual-stack MTA and "192.0.2.1"
// are the same client. Prefix lengths are the family's own (0..32, 0..128).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::ipblock {

// A 128-bit unsigned number, compared as one (hi first). No __int128: -Wpedantic.
struct U128 {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    auto operator<=>(const U128&) const = default;
};

struct Address {
    U128 bits{};     // IPv6 bits; IPv4 as ::ffff:a.b.c.d
    bool v4 = false;
    std::uint32_t v4_bits() const { return static_cast<std::uint32_t>(bits.lo); }
    bool operator==(const Address&) const = default;
};

struct Network {
    Address base{};  // host bits zero
    int prefix = 0;  // 0..32 for IPv4, 0..128 for IPv6
    bool operator==(const Network&) const = default;
    bool contains(const Address& a) const;
    bool is_host() const { return prefix == (base.v4 ? 32 : 128); }
};

// "192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1" (taken as IPv4). No zone ids, no brackets.
std::optional<Address> parse_address(std::string_view text);

// An address or "address/prefix". A network with host bits set is an error that says what
// was probably meant ("192.0.2.1/24 has host bits set; the network is 192.0.2.0/24").
Result<Network> parse_network(std::string_view text);

// The network of the given prefix length that holds a.
Network network_of(const Address& a, int prefix);
Network host_network(const Address& a);

// "192.0.2.1", "2001:db8::1".
std::string format_address(const Address& a);
// Canonical: a single host without "/32" or "/128", other networks "base/prefix".
std::string format_network(const Network& n);

// First and last address of the network, as 128-bit numbers (IPv4: mapped).
U128 first_of(const Network& n);
U128 last_of(const Network& n);

}  // namespace pmx::ipblock
