#include "ipblock/matcher.hpp"

#include <algorithm>

namespace pmx::ipblock {

namespace {

U128 next(U128 v) {
    if (++v.lo == 0) ++v.hi;
    return v;
}
std::uint32_t next(std::uint32_t v) { return v + 1; }
bool is_max(std::uint32_t v) { return v == 0xffffffffu; }
bool is_max(U128 v) { return v.hi == ~0ULL && v.lo == ~0ULL; }

// Sweeps networks sorted by (first ascending, size descending, insertion order) into interval
// starts and owners. Nested networks come right after their parent, so a stack of the open
// ones gives the owner of every point: the innermost open network.
template <class K, class P>
std::size_t sweep(std::vector<P>& pending, std::vector<K>& starts, std::vector<std::uint32_t>& owners,
                  std::uint32_t none) {
    std::sort(pending.begin(), pending.end(), [](const P& a, const P& b) {
        if (a.first != b.first) return a.first < b.first;
        if (a.last != b.last) return b.last < a.last;
        return a.index < b.index;
    });
    starts.clear();
    owners.clear();
    starts.reserve(pending.size() * 2 + 1);
    owners.reserve(pending.size() * 2 + 1);
    auto emit = [&](K at, std::uint32_t owner) {
        if (!starts.empty() && starts.back() == at) {
            owners.back() = owner;
            // Merging with the one before keeps the arrays minimal (a parent resumed at the
            // point a child started: can only happen for equal owners after an overwrite).
            if (owners.size() >= 2 && owners[owners.size() - 2] == owner) {
                starts.pop_back();
                owners.pop_back();
            }
            return;
        }
        if (!owners.empty() && owners.back() == owner) return;
        starts.push_back(at);
        owners.push_back(owner);
    };
    std::vector<const P*> open;
    std::size_t dups = 0;
    auto close_until = [&](const K* before) {
        // Closes every open network that ends before `before` (all of them when null).
        while (!open.empty() && (!before || open.back()->last < *before)) {
            const P* t = open.back();
            open.pop_back();
            if (is_max(t->last)) continue;
            emit(next(t->last), open.empty() ? none : open.back()->index);
        }
    };
    const P* prev = nullptr;
    for (const P& p : pending) {
        if (prev && prev->first == p.first && prev->last == p.last) {
            ++dups;
            continue;
        }
        prev = &p;
        close_until(&p.first);
        emit(p.first, p.index);
        open.push_back(&p);
    }
    close_until(nullptr);
    starts.shrink_to_fit();
    owners.shrink_to_fit();
    std::vector<P>().swap(pending);
    return dups;
}

}  // namespace

void Matcher::Builder::reserve(std::size_t n) {
    entries_.reserve(n);
    v4_.reserve(n);
}

void Matcher::Builder::add(const Network& n, std::uint32_t item, std::uint16_t source) {
    auto index = static_cast<std::uint32_t>(entries_.size());
    entries_.push_back({item, source, static_cast<std::uint8_t>(n.prefix), static_cast<std::uint8_t>(!n.base.v4)});
    if (n.base.v4)
        v4_.push_back({static_cast<std::uint32_t>(first_of(n).lo), static_cast<std::uint32_t>(last_of(n).lo), index});
    else
        v6_.push_back({first_of(n), last_of(n), index});
}

Matcher Matcher::Builder::build() {
    Matcher m;
    m.duplicates_ = sweep(v4_, m.v4_starts_, m.v4_owner_, kNone);
    m.duplicates_ += sweep(v6_, m.v6_starts_, m.v6_owner_, kNone);
    entries_.shrink_to_fit();
    m.entries_ = std::move(entries_);
    entries_ = {};
    return m;
}

const Matcher::Entry* Matcher::find(const Address& a) const {
    std::uint32_t owner = kNone;
    if (a.v4) {
        auto it = std::upper_bound(v4_starts_.begin(), v4_starts_.end(), a.v4_bits());
        if (it == v4_starts_.begin()) return nullptr;
        owner = v4_owner_[static_cast<std::size_t>(it - v4_starts_.begin()) - 1];
    } else {
        auto it = std::upper_bound(v6_starts_.begin(), v6_starts_.end(), a.bits);
        if (it == v6_starts_.begin()) return nullptr;
        owner = v6_owner_[static_cast<std::size_t>(it - v6_starts_.begin()) - 1];
    }
    return owner == kNone ? nullptr : &entries_[owner];
}

Network Matcher::network_of(const Address& a, const Entry& e) const { return ipblock::network_of(a, e.prefix); }

std::size_t Matcher::memory_bytes() const {
    return v4_starts_.capacity() * 4 + v4_owner_.capacity() * 4 + v6_starts_.capacity() * sizeof(U128) +
           v6_owner_.capacity() * 4 + entries_.capacity() * sizeof(Entry);
}

}  // namespace pmx::ipblock
