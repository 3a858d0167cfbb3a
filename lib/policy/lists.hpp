// What the policy asks of allow/block lists. The store implements it over the database
// (lib/store/lists_store.hpp); unit tests use an in-memory fake.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace pmx::policy {

enum class ListKind { Allow, Block };

class ListLookup {
public:
    virtual ~ListLookup() = default;
    // owner: "" for the global list, else a recipient address (the per-user list) or a whole
    // domain, "@example.org" (the policy asks for the recipient's own, then their domain's).
    // Sender entries match an address exactly, a domain ("example.com" matches
    // user@example.com and user@sub.example.com when the entry is ".example.com"), or a
    // wildcard ("*@spam.example"): lib/store/list_match.hpp. Policy conditions (sender =,
    // client_ip =, ...) use the same forms, in lib/policy/address_match.hpp.
    virtual bool sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const = 0;
    // Host entries: an IP, a CIDR range, or a hostname / "*.domain" pattern.
    virtual bool host_listed(ListKind kind, std::string_view owner, std::string_view ip,
                             std::string_view hostname) const = 0;

    // The same questions for traces (`pmx policy test`): the entry that matched, as stored
    // ("*@example.com"), or nullopt when not listed. Override them to name the entry; the
    // defaults only know that some entry matched and return "".
    virtual std::optional<std::string> sender_entry(ListKind kind, std::string_view owner,
                                                    std::string_view sender) const {
        if (!sender_listed(kind, owner, sender)) return std::nullopt;
        return std::string{};
    }
    virtual std::optional<std::string> host_entry(ListKind kind, std::string_view owner, std::string_view ip,
                                                  std::string_view hostname) const {
        if (!host_listed(kind, owner, ip, hostname)) return std::nullopt;
        return std::string{};
    }
};

}  // namespace pmx::policy
