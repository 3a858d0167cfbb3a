// The answer cache: by query name, expiring, least recently used out first, behind one mutex
// (lookups are few per message; the DNS round trip dwarfs the lock).
#include <list>
#include <mutex>
#include <unordered_map>

#include "spam/dnsbl/dnsbl.hpp"

namespace pmx::spam::dnsbl {

struct Cache::Impl {
    struct Entry {
        std::string name;
        std::vector<std::uint32_t> answers;
        Clock::time_point expires;
    };
    std::size_t capacity;
    std::chrono::seconds max_ttl;
    mutable std::mutex mutex;
    std::list<Entry> lru;  // most recently used first
    std::unordered_map<std::string, std::list<Entry>::iterator> index;

    void erase(std::list<Entry>::iterator it) {
        index.erase(it->name);
        lru.erase(it);
    }
};

Cache::Cache(std::size_t capacity, std::chrono::seconds max_ttl) : impl_(std::make_shared<Impl>()) {
    impl_->capacity = capacity;
    impl_->max_ttl = max_ttl;
}

std::optional<std::vector<std::uint32_t>> Cache::find(const std::string& name, Clock::time_point now) {
    std::lock_guard lock(impl_->mutex);
    auto it = impl_->index.find(name);
    if (it == impl_->index.end()) return std::nullopt;
    if (it->second->expires <= now) {
        impl_->erase(it->second);
        return std::nullopt;
    }
    impl_->lru.splice(impl_->lru.begin(), impl_->lru, it->second);
    return it->second->answers;
}

void Cache::store(const std::string& name, std::vector<std::uint32_t> answers, std::chrono::seconds ttl,
                  Clock::time_point now) {
    if (impl_->capacity == 0 || impl_->max_ttl.count() <= 0) return;
    // Negative answers: the zone's SOA minimum is not at hand through c-ares, so the bound it is.
    auto keep = answers.empty() ? impl_->max_ttl : std::min(ttl, impl_->max_ttl);
    if (keep.count() <= 0) return;
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->index.find(name); it != impl_->index.end()) impl_->erase(it->second);
    while (impl_->lru.size() >= impl_->capacity) impl_->erase(std::prev(impl_->lru.end()));
    impl_->lru.push_front({name, std::move(answers), now + keep});
    impl_->index.emplace(name, impl_->lru.begin());
}

std::size_t Cache::capacity() const { return impl_->capacity; }
std::chrono::seconds Cache::max_ttl() const { return impl_->max_ttl; }

std::size_t Cache::size() const {
    std::lock_guard lock(impl_->mutex);
    return impl_->lru.size();
}

}  // namespace pmx::spam::dnsbl
