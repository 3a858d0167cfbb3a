// Quarantine: the message stored whole, then indexed for search.
//
// quarantine() writes DIR/YYYY/MM/DD/<random>.eml (UTC date) the durable way (temporary
// file, fsync, rename, fsync of the directory, and of any directory it had to create),
// and only then inserts the index row and one row per recipient in one transaction. If
// the insert fails the file is removed and the error returned: on success the message is
// on disk and findable before the milter answers. A crash between the two steps leaves a
// file without an index row, never a row without a file; expire sweeps such files
// (store/quarantine_sweep.hpp). Searches: lib/store/quarantine_search.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "util/result.hpp"

namespace pmx::store {

struct QuarantineMeta {
    std::int64_t time_us = 0;  // 0: now
    std::string queue_id{};
    std::string client_ip{};
    std::string sender{};                   // "" = the null sender
    std::vector<std::string> recipients{};// those it is quarantined for (at least one)
    std::string subject{};                  // decoded
    std::string reason{};                   // "spam", "virus", ...
    std::optional<double> score{};
    std::string node{};                     // host name of this gateway
    std::string rule{};                     // the policy rule that decided
};

// Whether a message is still held for one of its recipients (store/quarantine_state.hpp).
struct RecipientState {
    std::string recipient{};
    std::optional<std::int64_t> released_us{};  // nullopt: still held
    std::string released_by{};                  // who released it
    std::string released_to{};                  // "" = to the recipient itself
};

struct QuarantinedMessage {
    std::int64_t id = 0;
    QuarantineMeta meta{};        // recipients in alphabetical order
    std::uint64_t size = 0;       // bytes of the stored message
    std::string file{};             // as stored: relative to the quarantine directory
    std::filesystem::path path{};   // quarantine directory / file
    std::vector<RecipientState> states{};  // one per recipient, in the order of meta.recipients

    // Still held for at least one recipient.
    bool held() const;
};

// A message the milter spilled to a (possibly unlinked) temporary file: size bytes read from
// offset 0 with copy_file_range/sendfile; the descriptor's own file offset is not moved.
struct MessageFd {
    int fd = -1;
    std::uint64_t size = 0;
};

// Stores the message and indexes it; returns the new id. dir must exist.
Result<std::int64_t> quarantine(Database& db, const std::filesystem::path& dir, std::string_view message,
                                const QuarantineMeta& meta);
Result<std::int64_t> quarantine(Database& db, const std::filesystem::path& dir, MessageFd message,
                                const QuarantineMeta& meta);

enum class HeldState { Any, Held, Released };  // Held: for some recipient; Released: for none

struct QuarantineFilter {
    std::string sender{};     // substring, case-insensitive
    std::string recipient{};  // substring, case-insensitive: any recipient
    std::string subject{};    // substring, case-insensitive
    std::string reason{};     // exact, case-insensitive
    std::optional<double> min_score{};  // score >= min (messages without a score never match)
    std::optional<double> max_score{};  // score <= max
    std::string text{};       // full text on subject and sender: see fts_query()
    HeldState state = HeldState::Any;
    std::optional<std::int64_t> since_us{};  // time_us >= since
    std::optional<std::int64_t> until_us{};  // time_us <  until
    // Whose mail the caller may see (the web interfaces): nullopt, every message; else only
    // messages with a recipient matching one of these patterns ("a@b" that address, "@b" that
    // domain; any case), and then recipient and state above look at those recipients only
    // (a search for another recipient of the same message finds nothing). Empty: no message.
    std::optional<std::vector<std::string>> recipient_scope{};
    int limit = 50;
    int offset = 0;
};

// Newest first. (lib/store/quarantine_search.cpp)
Result<std::vector<QuarantinedMessage>> search_quarantine(Database& db, const std::filesystem::path& dir,
                                                          const QuarantineFilter& filter);

// What people type for a full-text search, turned into an FTS5 query that can be nothing but
// that: words (all must occur, in subject or sender, any case, accents ignored), "quoted
// phrases", and a trailing * for a prefix ("inv*"). Everything else is literal text inside
// FTS5 string quotes, so no input is FTS5 syntax, let alone SQL (the query is bound, too).
// The error says what is wrong: empty, unbalanced quotes, a word without letters or digits,
// too long (more than 1000 bytes or 32 words).
Result<std::string> fts_query(std::string_view text);
// nullopt: no message with that id.
Result<std::optional<QuarantinedMessage>> find_quarantined(Database& db, const std::filesystem::path& dir,
                                                           std::int64_t id);
// Removes the index rows (one transaction), then the file. false: no message with that id.
Result<bool> delete_quarantined(Database& db, const std::filesystem::path& dir, std::int64_t id);

// The two halves of delete_quarantined, for callers that record more in the same transaction:
// the rows (inside the caller's transaction, if one is open), returning the file (relative) or
// nullopt when there is no such message; and, only once that is committed, the file. Never the
// other way round: a crash in between leaves a stray file for expiry, never a row without its file.
Result<std::optional<std::string>> delete_quarantine_rows(Database& db, std::int64_t id);
Result<void> remove_quarantine_file(const std::filesystem::path& dir, const std::string& file);

// The header block of a stored message (up to and without the empty line), at most max_bytes.
Result<std::string> read_message_headers(const std::filesystem::path& file, std::size_t max_bytes = 256 * 1024);

}  // namespace pmx::store
