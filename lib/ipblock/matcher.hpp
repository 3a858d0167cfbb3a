// The compiled lookup: which listed network is the most specific one holding an address.
//
// CIDR networks either nest or are disjoint, so a set of them cuts the address space into
// disjoint intervals, each owned by the most specific network covering it (or by none).
// The matcher keeps only the start of each interval and its owner: two sorted arrays per
// family, searched by binary search (IPv4 with 32-bit keys, so 1M IPv4 entries take about
// 8 bytes per entry for the entry plus 16 for its at most two interval boundaries).
// Immutable once built: readers share it through a shared_ptr and a reload builds a new one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipblock/address.hpp"

namespace pmx::ipblock {

class Matcher {
public:
    // What a listed network carries back: who listed it. The network itself is not stored:
    // it is the looked-up address masked with prefix.
    struct Entry {
        std::uint32_t item = 0;    // caller's number: a line in a file, a row index
        std::uint16_t source = 0;  // caller's number: which file, which table
        std::uint8_t prefix = 0;
        std::uint8_t v6 = 0;
    };

    class Builder {
    public:
        void reserve(std::size_t n);
        void add(const Network& n, std::uint32_t item, std::uint16_t source);
        std::size_t size() const { return v4_.size() + v6_.size(); }
        // Sorts and sweeps; the builder is empty afterwards. Where the same network was
        // added twice, the first one added wins (duplicates() counts the rest).
        Matcher build();

    private:
        struct Pending4 { std::uint32_t first, last; std::uint32_t index; };
        struct Pending6 { U128 first, last; std::uint32_t index; };
        std::vector<Pending4> v4_;
        std::vector<Pending6> v6_;
        std::vector<Entry> entries_;
    };

    Matcher() = default;

    // The most specific entry whose network holds a, or nullptr.
    const Entry* find(const Address& a) const;
    Network network_of(const Address& a, const Entry& e) const;

    std::size_t size() const { return entries_.size() - duplicates_; }  // distinct networks
    std::size_t duplicates() const { return duplicates_; }
    std::size_t intervals() const { return v4_starts_.size() + v6_starts_.size(); }
    std::size_t memory_bytes() const;

private:
    static constexpr std::uint32_t kNone = 0xffffffffu;
    std::vector<std::uint32_t> v4_starts_, v4_owner_;
    std::vector<U128> v6_starts_;
    std::vector<std::uint32_t> v6_owner_;
    std::vector<Entry> entries_;
    std::size_t duplicates_ = 0;
};

}  // namespace pmx::ipblock
