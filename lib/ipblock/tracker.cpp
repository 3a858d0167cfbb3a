#include "ipblock/tracker.hpp"

#include <algorithm>

namespace pmx::ipblock {

void Tracker::set_limits(const TrackerLimits& limits) {
    if (limits.window_us != limits_.window_us) ips_.clear();  // bucket widths changed: start over
    limits_ = limits;
}

std::int64_t Tracker::width() const { return std::max<std::int64_t>(1, limits_.window_us / kBuckets); }

WindowCount Tracker::sum(const Window& w, std::int64_t now_us) const {
    WindowCount c;
    std::int64_t now_bucket = now_us / width();
    for (int i = 0; i < kBuckets; ++i) {
        // A bucket counts while any of it lies inside the window.
        if (w.slot[i] > now_bucket - kBuckets && w.slot[i] <= now_bucket) {
            c.spam += w.counts[i].spam;
            c.total += w.counts[i].total;
        }
    }
    return c;
}

std::optional<WindowCount> Tracker::add(const Address& a, std::int64_t time_us, bool spam) {
    auto it = ips_.find(a.bits);
    if (it == ips_.end()) {
        // Clean mail from a new IP cannot make it qualify: not worth a slot when space is short.
        if (ips_.size() >= limits_.max_tracked) {
            prune(time_us);
            if (ips_.size() >= limits_.max_tracked) {
                ++dropped_;
                return std::nullopt;
            }
        }
        it = ips_.emplace(a.bits, Window{}).first;
        it->second.slot.fill(-1);
    }
    Window& w = it->second;
    std::int64_t bucket = time_us / width();
    int i = static_cast<int>(((bucket % kBuckets) + kBuckets) % kBuckets);
    if (w.slot[i] != bucket) {
        w.slot[i] = bucket;
        w.counts[i] = {};
    }
    w.counts[i].total++;
    if (spam) w.counts[i].spam++;
    w.last_us = std::max(w.last_us, time_us);
    WindowCount c = sum(w, std::max(w.last_us, time_us));
    if (c.spam >= limits_.threshold && static_cast<std::uint64_t>(c.spam) * 100 >
                                           static_cast<std::uint64_t>(limits_.ratio_percent) * c.total)
        return c;
    return std::nullopt;
}

WindowCount Tracker::count(const Address& a, std::int64_t now_us) const {
    auto it = ips_.find(a.bits);
    return it == ips_.end() ? WindowCount{} : sum(it->second, now_us);
}

void Tracker::prune(std::int64_t now_us) {
    for (auto it = ips_.begin(); it != ips_.end();) {
        if (it->second.last_us <= now_us - limits_.window_us) it = ips_.erase(it);
        else ++it;
    }
}

}  // namespace pmx::ipblock
