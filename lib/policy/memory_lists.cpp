#include "policy/memory_lists.hpp"

namespace pmx::policy {

Result<void> MemoryLists::add_sender(ListKind kind, std::string owner, std::string_view entry) {
    auto p = AddressPattern::parse(entry);
    if (!p) return p.error();
    senders_.push_back({kind, std::move(owner), std::move(*p)});
    return {};
}

Result<void> MemoryLists::add_host(ListKind kind, std::string owner, std::string_view entry) {
    HostEntry e{kind, std::move(owner), std::nullopt, std::nullopt, std::string(entry)};
    if (auto c = Cidr::parse(entry)) {
        e.network = std::move(*c);
    } else {
        auto h = HostnamePattern::parse(entry);
        if (!h) return h.error();
        e.hostname = std::move(*h);
    }
    hosts_.push_back(std::move(e));
    return {};
}

std::optional<std::string> MemoryLists::sender_entry(ListKind kind, std::string_view owner,
                                                     std::string_view sender) const {
    for (const auto& e : senders_)
        if (e.kind == kind && iequals(e.owner, owner) && e.pattern.matches(sender)) return e.pattern.text();
    return std::nullopt;
}

std::optional<std::string> MemoryLists::host_entry(ListKind kind, std::string_view owner, std::string_view ip,
                                                   std::string_view hostname) const {
    auto addr = IpAddress::parse(ip);
    for (const auto& e : hosts_) {
        if (e.kind != kind || !iequals(e.owner, owner)) continue;
        if (e.network ? (addr && e.network->contains(*addr)) : (!hostname.empty() && e.hostname->matches(hostname)))
            return e.text;
    }
    return std::nullopt;
}

bool MemoryLists::sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const {
    return sender_entry(kind, owner, sender).has_value();
}

bool MemoryLists::host_listed(ListKind kind, std::string_view owner, std::string_view ip,
                              std::string_view hostname) const {
    return host_entry(kind, owner, ip, hostname).has_value();
}

}  // namespace pmx::policy
