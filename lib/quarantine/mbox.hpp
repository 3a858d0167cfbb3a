// Quarantined messages as one mbox file, in the mboxrd flavour (what mutt, Thunderbird and
// formail read back unchanged):
//
//     From SENDER Wed Nov 25 12:00:00 2026       envelope sender ("MAILER-DAEMON" for <>), UTC
//     ...the message, LF line ends, every line matching ^>*From  with one more ">" in front...
//     (an empty line)
//
// Export writes a temporary file beside the target, fsyncs and renames it, so a reader never
// sees half an export; "-" writes to standard output. Every exported message is recorded in
// the audit log.
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "store/database.hpp"
#include "store/quarantine_store.hpp"
#include "util/result.hpp"

namespace pmx::quarantine {

// "From alice@example.com Wed Nov 25 12:00:00 2026\n"
std::string mboxrd_from_line(std::string_view sender, std::int64_t time_us);

// One message, read from its file a line at a time.
Result<void> append_mboxrd(std::FILE* out, const std::filesystem::path& message, std::string_view sender,
                           std::int64_t time_us);

struct ExportResult {
    std::uint64_t messages = 0;
    std::uint64_t bytes = 0;  // of the mbox written
};

Result<ExportResult> export_mbox(store::Database& db, const std::vector<store::QuarantinedMessage>& messages,
                                 const std::filesystem::path& output, const std::string& actor);

}  // namespace pmx::quarantine
