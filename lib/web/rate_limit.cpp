// Failed sign-ins per key in a window that starts at the key's first failure: after max_
// failures the key waits until the window has passed. The map is capped (keys are client
// addresses and account names an attacker chooses), expired keys go first.
#include "web/rate_limit.hpp"

namespace pmx::web {

namespace {
constexpr std::size_t max_keys = 100000;
}

bool RateLimiter::allowed(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = failures_.find(key);
    if (it == failures_.end()) return true;
    if (std::chrono::steady_clock::now() - it->second.second >= window_) {
        failures_.erase(it);
        return true;
    }
    return it->second.first < max_;
}

void RateLimiter::failed(std::string_view key) {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    auto it = failures_.find(key);
    if (it != failures_.end()) {
        if (now - it->second.second >= window_)
            it->second = {1, now};
        else if (it->second.first < max_ + 1)  // no need to count further
            ++it->second.first;
        return;
    }
    if (failures_.size() >= max_keys) {
        std::erase_if(failures_, [&](const auto& kv) { return now - kv.second.second >= window_; });
        if (failures_.size() >= max_keys) {  // still full: forget the oldest
            auto oldest = failures_.begin();
            for (auto i = failures_.begin(); i != failures_.end(); ++i)
                if (i->second.second < oldest->second.second) oldest = i;
            failures_.erase(oldest);
        }
    }
    failures_.emplace(std::string(key), std::make_pair(1, now));
}

void RateLimiter::succeeded(std::string_view key) {
    std::lock_guard lock(mutex_);
    auto it = failures_.find(key);
    if (it != failures_.end()) failures_.erase(it);
}

}  // namespace pmx::web
