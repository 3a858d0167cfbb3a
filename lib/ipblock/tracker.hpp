// Dynamic blocking's memory: how much mail, and how much spam, each client IP sent lately.
//
// Per IP a ring of 16 time buckets covering the window (so memory per IP is fixed, however
// much mail it sends; counts are exact to a sixteenth of the window). An IP qualifies for a
// block when, within the window, it sent at least `threshold` spam messages and its share of
// spam is more than `ratio_percent` of its mail. Pure logic: the daemon feeds it rows from
// the message log and decides what a block means.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "ipblock/address.hpp"

namespace pmx::ipblock {

struct TrackerLimits {
    std::uint32_t threshold = 10;
    std::int64_t window_us = 600'000'000;
    std::uint32_t ratio_percent = 50;  // spam share must be above this (0: any share)
    std::size_t max_tracked = 100'000; // IPs remembered at once (a spoofed-source flood is capped)
};

struct WindowCount {
    std::uint32_t spam = 0;
    std::uint32_t total = 0;
};

class Tracker {
public:
    explicit Tracker(TrackerLimits limits = {}) : limits_(limits) {}
    void set_limits(const TrackerLimits& limits);

    // Counts one message. Returns the window's counts when the IP qualifies for a block now.
    std::optional<WindowCount> add(const Address& a, std::int64_t time_us, bool spam);
    WindowCount count(const Address& a, std::int64_t now_us) const;
    // After a block: its mail so far is paid for.
    void forget(const Address& a) { ips_.erase(a.bits); }
    // Drops IPs with nothing inside the window any more.
    void prune(std::int64_t now_us);
    std::size_t tracked() const { return ips_.size(); }
    std::uint64_t dropped() const { return dropped_; }  // messages not counted because of max_tracked

private:
    static constexpr int kBuckets = 16;
    struct Window {
        std::array<std::int64_t, kBuckets> slot{};  // bucket number each slot holds (time / width)
        std::array<WindowCount, kBuckets> counts{};
        std::int64_t last_us = 0;
    };
    struct Hash {
        std::size_t operator()(const U128& v) const noexcept { return std::hash<std::uint64_t>{}(v.hi * 0x9e3779b97f4a7c15ULL ^ v.lo); }
    };
    std::int64_t width() const;
    WindowCount sum(const Window& w, std::int64_t now_us) const;

    TrackerLimits limits_;
    std::unordered_map<U128, Window, Hash> ips_;
    std::uint64_t dropped_ = 0;
};

}  // namespace pmx::ipblock
