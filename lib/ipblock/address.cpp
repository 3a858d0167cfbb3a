#include "ipblock/address.hpp"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <cstring>

namespace pmx::ipblock {

namespace {

constexpr std::uint64_t kMappedHi = 0;
constexpr std::uint64_t kMappedLo = 0x0000ffff00000000ULL;

// Mask with the top `bits` bits (of 128) set.
U128 mask_of(int bits) {
    U128 m;
    if (bits <= 0) return m;
    if (bits >= 128) return {~0ULL, ~0ULL};
    if (bits >= 64) {
        m.hi = ~0ULL;
        m.lo = bits == 64 ? 0 : ~0ULL << (128 - bits);
    } else {
        m.hi = ~0ULL << (64 - bits);
    }
    return m;
}

int bits128(const Network& n) { return n.base.v4 ? n.prefix + 96 : n.prefix; }

std::optional<std::uint32_t> parse_v4(std::string_view s) {
    std::uint32_t out = 0;
    int parts = 0;
    std::size_t i = 0;
    while (parts < 4) {
        std::uint32_t v = 0;
        std::size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            v = v * 10 + static_cast<std::uint32_t>(s[i] - '0');
            ++i;
            ++digits;
        }
        if (digits == 0 || digits > 3 || v > 255) return std::nullopt;
        out = (out << 8) | v;
        ++parts;
        if (parts < 4) {
            if (i >= s.size() || s[i] != '.') return std::nullopt;
            ++i;
        }
    }
    if (i != s.size()) return std::nullopt;
    return out;
}

Address from_v4(std::uint32_t v) { return Address{U128{kMappedHi, kMappedLo | v}, true}; }

}  // namespace

bool Network::contains(const Address& a) const {
    if (a.v4 != base.v4) return false;
    U128 m = mask_of(bits128(*this));
    return (a.bits.hi & m.hi) == base.bits.hi && (a.bits.lo & m.lo) == base.bits.lo;
}

std::optional<Address> parse_address(std::string_view text) {
    if (text.empty() || text.size() > 45) return std::nullopt;
    if (text.find(':') == std::string_view::npos) {
        auto v = parse_v4(text);
        if (!v) return std::nullopt;
        return from_v4(*v);
    }
    char buf[64];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    unsigned char raw[16];
    if (inet_pton(AF_INET6, buf, raw) != 1) return std::nullopt;
    Address a;
    for (int i = 0; i < 8; ++i) a.bits.hi = (a.bits.hi << 8) | raw[i];
    for (int i = 8; i < 16; ++i) a.bits.lo = (a.bits.lo << 8) | raw[i];
    if (a.bits.hi == kMappedHi && (a.bits.lo >> 32) == (kMappedLo >> 32)) a.v4 = true;
    return a;
}

Network network_of(const Address& a, int prefix) {
    Network n;
    n.base = a;
    n.prefix = prefix;
    U128 m = mask_of(bits128(n));
    n.base.bits.hi &= m.hi;
    n.base.bits.lo &= m.lo;
    return n;
}

Network host_network(const Address& a) { return network_of(a, a.v4 ? 32 : 128); }

Result<Network> parse_network(std::string_view text) {
    auto slash = text.find('/');
    auto addr_text = text.substr(0, slash);
    auto a = parse_address(addr_text);
    if (!a) return Error{fmt::format("\"{}\" is not an IPv4 or IPv6 address", addr_text)};
    if (slash == std::string_view::npos) return host_network(*a);
    auto ptext = text.substr(slash + 1);
    int prefix = 0;
    if (ptext.empty() || ptext.size() > 3) return Error{fmt::format("\"{}\" has no valid prefix length", text)};
    for (char c : ptext) {
        if (c < '0' || c > '9') return Error{fmt::format("\"{}\" has no valid prefix length", text)};
        prefix = prefix * 10 + (c - '0');
    }
    // "::ffff:192.0.2.0/120" is an IPv4 network written the IPv6 way.
    bool written_v6 = addr_text.find(':') != std::string_view::npos;
    if (a->v4 && written_v6) {
        if (prefix < 96) a->v4 = false;
        else prefix -= 96;
    }
    int max = a->v4 ? 32 : 128;
    if (prefix > max) return Error{fmt::format("\"{}\": prefix length {} is over {}", text, prefix, max)};
    Network n = network_of(*a, prefix);
    if (n.base != *a)
        return Error{fmt::format("\"{}\" has host bits set; the network is {}", text, format_network(n))};
    return n;
}

std::string format_address(const Address& a) {
    if (a.v4) {
        std::uint32_t v = a.v4_bits();
        return fmt::format("{}.{}.{}.{}", v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
    }
    unsigned char raw[16];
    for (int i = 0; i < 8; ++i) raw[i] = static_cast<unsigned char>(a.bits.hi >> (56 - 8 * i));
    for (int i = 0; i < 8; ++i) raw[8 + i] = static_cast<unsigned char>(a.bits.lo >> (56 - 8 * i));
    char buf[INET6_ADDRSTRLEN];
    if (!inet_ntop(AF_INET6, raw, buf, sizeof buf)) return "?";
    return buf;
}

std::string format_network(const Network& n) {
    if (n.is_host()) return format_address(n.base);
    return fmt::format("{}/{}", format_address(n.base), n.prefix);
}

U128 first_of(const Network& n) { return n.base.bits; }

U128 last_of(const Network& n) {
    U128 m = mask_of(bits128(n));
    return {n.base.bits.hi | ~m.hi, n.base.bits.lo | ~m.lo};
}

}  // namespace pmx::ipblock
