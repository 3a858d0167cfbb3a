// Handing a message to pmx-queued: what quarantine release and forward, digests, notifications
// and job-failure mails call. The rest of the spool (states, retries, delivery) is in
// lib/queue/spool.hpp, which only pmx-queued and `pmx queue` need.
//
// submit() writes the message and its envelope into the spool's incoming directory the durable
// way (temporary name, fsync, rename, fsync of the directory) and returns once it is there: from
// then on the message is pmx-queued's to deliver, and survives any crash. pmx-queued notices new
// entries by itself (inotify, and a periodic scan), so no D-Bus call is needed; a caller running
// as root hands the new file to the owner of the spool directory (the pmx user).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"

namespace pmx::config { class Snapshot; }

namespace pmx::queue {

struct Envelope {
    std::string sender;                   // MAIL FROM; "" = the null sender <>
    std::vector<std::string> recipients;  // RCPT TO, at least one
    // What the message is, shown by `pmx queue list` and in the log:
    // release | forward | digest | notification | report | job-failure
    std::string kind;
    std::string reference;                // free text for people, e.g. "quarantine 42"
};

// The spool directory from the configuration (queue.spool_dir; relative paths are under the
// state directory).
std::filesystem::path spool_directory(const config::Snapshot& snapshot);

// Returns the new entry's id (unique, sortable by submission time). The message is stored as
// given: a complete RFC 5322 message (CRLF or LF line ends; pmx-queued sends CRLF).
Result<std::string> submit(const std::filesystem::path& spool_dir, const Envelope& envelope,
                           std::string_view message);
// The same, copying the message from a file (a quarantined message: no full copy in memory).
Result<std::string> submit_file(const std::filesystem::path& spool_dir, const Envelope& envelope,
                                const std::filesystem::path& message_file);

}  // namespace pmx::queue
