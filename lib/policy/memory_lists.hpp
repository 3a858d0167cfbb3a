// An in-memory ListLookup: for unit tests, for `pmx policy test` when the database is not
// reachable (empty), and as the reference for how entries match (address_match.hpp).
#pragma once

#include <string>
#include <vector>

#include "policy/address_match.hpp"
#include "policy/lists.hpp"
#include "util/result.hpp"

namespace pmx::policy {

class MemoryLists final : public ListLookup {
public:
    // owner "" is the global list, else the recipient address whose per-user list it is.
    // Sender entries are address patterns; host entries an IP or CIDR range, else a hostname pattern.
    Result<void> add_sender(ListKind kind, std::string owner, std::string_view entry);
    Result<void> add_host(ListKind kind, std::string owner, std::string_view entry);

    bool sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const override;
    bool host_listed(ListKind kind, std::string_view owner, std::string_view ip, std::string_view hostname) const override;
    std::optional<std::string> sender_entry(ListKind kind, std::string_view owner, std::string_view sender) const override;
    std::optional<std::string> host_entry(ListKind kind, std::string_view owner, std::string_view ip,
                                          std::string_view hostname) const override;

private:
    struct SenderEntry {
        ListKind kind;
        std::string owner;
        AddressPattern pattern;
    };
    struct HostEntry {
        ListKind kind;
        std::string owner;
        std::optional<Cidr> network;
        std::optional<HostnamePattern> hostname;
        std::string text;
    };
    std::vector<SenderEntry> senders_;
    std::vector<HostEntry> hosts_;
};

}  // namespace pmx::policy
