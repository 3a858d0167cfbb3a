// Allow/block lists in the database: global (owner "") and per user (owner = a recipient
// address, or "@domain" for every recipient there), of senders and of client hosts. Patterns: lib/store/list_match.hpp.
//
// Every change bumps list_version (a trigger does it, whoever writes), and DatabaseLists,
// the policy's view of the lists, compares that counter on refresh() (the milter calls it
// once per message) and at most once per check interval on lookups: `pmx list add` takes
// effect in a running milter from its next message, with no reload.
//
// List files (`pmx list import` / `pmx list export`): UTF-8 text, one entry per line:
//
//     # blank lines and lines starting with "#" are ignored
//     [KIND] [TYPE] PATTERN [# comment]
//
//   KIND     allow | block; may be left out when the import names the kind (--kind)
//   TYPE     sender | host; when left out, inferred: "<>" and anything with "@" are senders,
//            IP addresses and networks are hosts, anything else is a sender domain
//   comment  everything after a "#" that follows white space; kept with the entry
//
// Export always writes "KIND TYPE PATTERN", so its output imports back unchanged.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "policy/lists.hpp"
#include "store/database.hpp"
#include "store/list_match.hpp"
#include "util/result.hpp"

namespace pmx::store {

using policy::ListKind;

std::string_view kind_name(ListKind kind);                   // "allow", "block"
std::optional<ListKind> parse_kind(std::string_view text);  // "allow" | "block"

// "" stays "" (the global list); an address loses its <> and is lowercased. Error when it is not an address.
Result<std::string> normalize_owner(std::string_view owner);

struct ListEntry {
    std::int64_t id = 0;
    ListKind kind = ListKind::Allow;
    std::string owner{};  // "" = global
    EntryType type = EntryType::Sender;
    std::string pattern{};  // normalized (list_match.hpp)
    std::string comment{};
    std::int64_t added_us = 0;  // 0 on add: now
};

struct ListFilter {
    std::optional<ListKind> kind{};
    std::optional<std::string> owner{};  // nullopt: every list; "": the global one; else that user's
    std::optional<EntryType> type{};
};

// Ordered by owner ("" first), kind, type, pattern.
Result<std::vector<ListEntry>> list_entries(Database& db, const ListFilter& filter = {});

// Normalizes and checks owner, pattern and comment, then adds. Returns the entry as stored,
// or nullopt when the same (kind, owner, type, pattern) was already there (left unchanged).
Result<std::optional<ListEntry>> add_list_entry(Database& db, ListEntry entry);

// Removes one entry; type nullopt: whichever type holds the pattern (an Error when both do).
// Returns the entry removed, or nullopt when there was none.
Result<std::optional<ListEntry>> remove_list_entry(Database& db, ListKind kind, std::string_view owner,
                                                   std::string_view pattern, std::optional<EntryType> type = {});

// The change counter (list_version): differs after any change to any list.
Result<std::int64_t> list_version(Database& db);

// ---- list files ----

struct ListLine {
    int line = 0;  // 1-based
    std::optional<ListKind> kind{};
    std::optional<EntryType> type{};
    std::string pattern{};  // as written
    std::string comment{};
};

struct LineError {
    int line = 0;
    std::string message{};
};

struct ParsedListFile {
    std::vector<ListLine> entries{};
    std::vector<LineError> errors{};  // lines that could not be read at all
};

ParsedListFile parse_list_file(std::string_view text);

struct ImportOptions {
    std::optional<ListKind> kind{};  // for lines without one (a line naming another kind is an error)
    std::string owner{};             // "" = global
    bool dry_run = false;          // check everything, change nothing
};

struct ImportSummary {
    int added = 0;
    int duplicates = 0;  // already on the list, or repeated in the file
    std::vector<LineError> errors{};
};

// Adds every valid line in one transaction (valid lines go in even when others have errors:
// importing the fixed file again only adds what is missing). Error only for database failures.
Result<ImportSummary> import_list(Database& db, std::string_view text, const ImportOptions& options);

// The list file text of these entries (a header comment, then one line each).
std::string export_list(const std::vector<ListEntry>& entries, std::string_view header_comment = "");

// ---- the policy's view ----

class DatabaseLists final : public policy::ListLookup {
public:
    struct Options {
        // How often a lookup compares the change counter (0: on every lookup). refresh() checks at once.
        std::chrono::milliseconds check_interval{1000};
        OpenOptions open{};
    };

    // Opens its own connection (lookups come from many milter threads; it serializes them).
    static Result<std::unique_ptr<DatabaseLists>> open(const std::filesystem::path& path, const Options& options);
    static Result<std::unique_ptr<DatabaseLists>> open(const std::filesystem::path& path) { return open(path, Options{}); }
    DatabaseLists(Database db, const Options& options);

    bool sender_listed(ListKind kind, std::string_view owner, std::string_view sender) const override;
    bool host_listed(ListKind kind, std::string_view owner, std::string_view ip,
                     std::string_view hostname) const override;
    // The entry that matched, as stored ("*@example.com"), for `pmx policy test` traces.
    std::optional<std::string> sender_entry(ListKind kind, std::string_view owner,
                                            std::string_view sender) const override;
    std::optional<std::string> host_entry(ListKind kind, std::string_view owner, std::string_view ip,
                                          std::string_view hostname) const override;

    // Compares the change counter now (e.g. once per message) and drops what changed.
    Result<void> refresh() const;
    std::int64_t version() const;
    // Why the last read of the lists failed, "" when it worked. Lookups then go on with
    // the lists they had (and answer "not listed" for lists they could not load).
    std::string last_error() const;

private:
    using Compiled = std::shared_ptr<const CompiledList>;
    Result<void> check_locked(bool force) const;
    Compiled get(ListKind kind, std::string_view owner) const;

    Options options_;
    mutable std::mutex mu_;
    mutable Database db_;
    mutable bool loaded_ = false;
    mutable std::int64_t version_ = -1;
    mutable std::chrono::steady_clock::time_point last_check_{};
    mutable std::unordered_set<std::string> owners_;  // "a:" / "b:" + owner, for every list that has entries
    mutable std::unordered_map<std::string, Compiled> cache_;
    mutable std::string last_error_;
};

}  // namespace pmx::store
