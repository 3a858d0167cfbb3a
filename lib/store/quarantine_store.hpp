// Quarantine: the message stored whole, then indexed for search.
//
// quarantine() writes DIR/YYYY/MM/DD/<random>.eml (UTC date) the durable way (temporary
// file, fsync, rename, fsync of the directory, and of any directory it had to create),
// and only then inserts the index row and one row per recipient in one transaction. If
// the insert fails the file is removed and the error returned: on success the message is
// on disk and findable before the milter answers. A crash between the two steps leaves a
// file without an index row, never a row without a file; expiry (later) sweeps such files.
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

struct QuarantinedMessage {
    std::int64_t id = 0;
    QuarantineMeta meta{};        // recipients in alphabetical order
    std::uint64_t size = 0;       // bytes of the stored message
    std::string file{};             // as stored: relative to the quarantine directory
    std::filesystem::path path{};   // quarantine directory / file
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

struct QuarantineFilter {
    std::string sender{};     // substring, case-insensitive
    std::string recipient{};  // substring, case-insensitive: any recipient
    std::string subject{};    // substring, case-insensitive
    std::string reason{};     // exact, case-insensitive
    std::optional<std::int64_t> since_us{};  // time_us >= since
    std::optional<std::int64_t> until_us{};  // time_us <  until
    int limit = 50;
    int offset = 0;
};

// Newest first.
Result<std::vector<QuarantinedMessage>> search_quarantine(Database& db, const std::filesystem::path& dir,
                                                          const QuarantineFilter& filter);
// nullopt: no message with that id.
Result<std::optional<QuarantinedMessage>> find_quarantined(Database& db, const std::filesystem::path& dir,
                                                           std::int64_t id);
// Removes the index rows (one transaction), then the file. false: no message with that id.
Result<bool> delete_quarantined(Database& db, const std::filesystem::path& dir, std::int64_t id);

// The header block of a stored message (up to and without the empty line), at most max_bytes.
Result<std::string> read_message_headers(const std::filesystem::path& file, std::size_t max_bytes = 256 * 1024);

}  // namespace pmx::store
