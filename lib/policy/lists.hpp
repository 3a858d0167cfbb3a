// What the policy asks of allow/block lists. The store implements it over the database
// (lib/store/lists_store.hpp); unit tests use an in-memory fake.
#pragma once

#include <string>
#include <string_view>

namespace pmx::policy {

enum class ListKind { Allow, Block };

class ListLookup {
public:
    virtual ~ListLookup() = default;
    // owner: "" for the global list, else a recipient address (the per-user list).
    // Sender entries match an address exactly, a domain ("example.com" matches
    // user@example.com and user@sub.example.com when the entry is ".example.com"... see
    // lib/policy/address_match.hpp), or a wildcard ("*@spam.example").
    virtual bool sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const = 0;
    // Host entries: an IP, a CIDR range, or a hostname / "*.domain" pattern.
    virtual bool host_listed(ListKind kind, std::string_view owner, std::string_view ip,
                             std::string_view hostname) const = 0;
};

}  // namespace pmx::policy
