// Login attempts per key (client address, account) in a sliding window, in memory: a brute
// force against one account or from one client is slowed to httpd.login_max_failures per
// httpd.login_window_seconds. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace pmx::web {

class RateLimiter {
public:
    RateLimiter(int max_failures, std::chrono::seconds window) : max_(max_failures), window_(window) {}
    // Whether another attempt for key is allowed now.
    bool allowed(std::string_view key);
    void failed(std::string_view key);
    void succeeded(std::string_view key);  // forgets the key's failures

private:
    int max_;
    std::chrono::seconds window_;
    std::mutex mutex_;
    std::map<std::string, std::pair<int, std::chrono::steady_clock::time_point>, std::less<>> failures_;
};

}  // namespace pmx::web
