// Inside lib/store: reading quarantine rows, shared by the store's quarantine files
// (quarantine_store.cpp, quarantine_search.cpp). Not for use outside lib/store.
#pragma once

#include <filesystem>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/quarantine_store.hpp"

namespace pmx::store::detail {

// The columns read_quarantine_row() reads, in its order; the table is aliased "q".
inline constexpr std::string_view quarantine_columns =
    "q.id, q.time_us, q.file, q.size, q.queue_id, q.client_ip, q.sender, q.subject, q.reason, q.score, q.node, q.rule";

QuarantinedMessage read_quarantine_row(const Statement& s, const std::filesystem::path& dir);

// Fills meta.recipients and states of each message (alphabetical).
Result<void> load_recipients(Database& db, std::vector<QuarantinedMessage>& messages);

}  // namespace pmx::store::detail
