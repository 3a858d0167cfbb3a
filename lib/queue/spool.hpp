// pmx-queued's spool: one file per entry, the envelope (and its delivery state) as a short
// text header followed by the message exactly as submitted, in one directory per state:
//
//     SPOOL/tmp/        being written (never read as entries; stale ones are removed)
//     SPOOL/incoming/   submitted, not tried yet (pmx-queued watches it with inotify)
//     SPOOL/active/     being delivered now (left here only by a crash: tried again at start)
//     SPOOL/deferred/   a temporary failure; the file's mtime is the next attempt
//     SPOOL/failed/     a permanent failure (5xx) or given up (attempts, age): never retried
//                       unless `pmx queue retry` puts it back
//     SPOOL/sent/       every recipient delivered; removed after queue.sent_keep
//
// The header (all values on one line; "\\", "\n", "\r" escaped as \\, \n, \r):
//
//     pmx-queue-entry 1
//     id: 000628c6e1d3a0b1-4f2a9c
//     kind: release
//     reference: quarantine 42
//     sender: alice@example.org
//     submitted: 1764072732000000
//     requeued: 0
//     attempts: 2
//     last-attempt: 1764072800000000
//     next-attempt: 1764073100000000
//     last-error: 451 4.3.0 try again later
//     message-bytes: 1234
//     rcpt: pending 451 0 bob@example.org
//     rcpt-reply: 4.3.0 try again later
//     rcpt: delivered 250 1764072800000000 carol@example.org
//     <empty line>
//     <message>
//
// Every change of state writes a new file (header, then the message copied from the old file)
// under tmp/, fsyncs it, renames it over the entry's current name and then renames it into its
// new directory: the entry exists under exactly one name at every moment, so a crash at any
// point leaves either the old state or the new one, never none and never two copies. Whoever
// changes an entry holds flock(LOCK_EX) on it first (pmx-queued for the whole delivery), so
// `pmx queue retry|delete` and the daemon never change the same entry at once.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "queue/submit.hpp"
#include "util/result.hpp"

namespace pmx::queue {

enum class State { Incoming, Active, Deferred, Failed, Sent };
std::string_view to_string(State s);              // "incoming", "active", ...
std::optional<State> parse_state(std::string_view s);
inline constexpr State kAllStates[] = {State::Incoming, State::Active, State::Deferred, State::Failed, State::Sent};

enum class RcptStatus { Pending, Delivered, Failed };
std::string_view to_string(RcptStatus s);         // "pending", "delivered", "failed"

struct RecipientState {
    std::string address{};
    RcptStatus status = RcptStatus::Pending;
    int code = 0;                // last SMTP reply code for this recipient (0: none / no connection)
    std::int64_t done_us = 0;    // when it was delivered or failed for good
    std::string reply{};         // last reply text, one line
};

struct Entry {
    std::string id;
    std::string kind;
    std::string reference;
    std::string sender;
    std::int64_t submitted_us = 0;
    std::int64_t requeued_us = 0;       // last `pmx queue retry`: max_age counts from here
    std::int64_t attempts = 0;
    std::int64_t last_attempt_us = 0;
    std::int64_t next_attempt_us = 0;   // 0: as soon as possible
    std::string last_error;
    std::int64_t message_bytes = 0;
    std::vector<RecipientState> recipients;

    std::vector<std::string> pending_recipients() const;
    std::size_t count(RcptStatus s) const;
};

// Caps on what is read back (a damaged file is an error, never a crash or a huge allocation).
inline constexpr std::size_t kMaxHeaderBytes = 4 * 1024 * 1024;
inline constexpr std::size_t kMaxRecipients = 100000;

// "<14 hex digits: microseconds since the epoch><6 hex digits random>": unique, sortable by time.
std::string new_entry_id(std::int64_t now_us);
bool valid_entry_id(std::string_view id);

// The header text, ending with the empty line.
std::string render_header(const Entry& e);
// Parses a header; header_bytes receives its length (with the empty line): the message follows.
Result<Entry> parse_header(std::string_view text, std::size_t* header_bytes);

// An entry file opened (and possibly locked) for reading or changing.
class EntryFile {
public:
    EntryFile() = default;
    EntryFile(EntryFile&& o) noexcept;
    EntryFile& operator=(EntryFile&& o) noexcept;
    EntryFile(const EntryFile&) = delete;
    EntryFile& operator=(const EntryFile&) = delete;
    ~EntryFile();

    int fd() const { return fd_; }
    const Entry& entry() const { return entry_; }
    Entry& entry() { return entry_; }
    std::size_t header_bytes() const { return header_bytes_; }
    State state() const { return state_; }
    const std::filesystem::path& path() const { return path_; }

    // The message as stored (read from the file).
    Result<std::string> read_message() const;

private:
    friend class Spool;
    int fd_ = -1;
    Entry entry_{};
    std::size_t header_bytes_ = 0;
    State state_ = State::Incoming;
    std::filesystem::path path_{};
};

struct ListedEntry {
    State state;
    Entry entry;
    std::int64_t mtime_us = 0;
    std::string problem;  // non-empty: the file could not be read (entry holds the id only)
};

class Spool {
public:
    explicit Spool(std::filesystem::path root) : root_(std::move(root)) {}

    const std::filesystem::path& root() const { return root_; }
    std::filesystem::path dir(State s) const;
    std::filesystem::path tmp_dir() const { return root_ / "tmp"; }
    std::filesystem::path path(State s, std::string_view id) const { return dir(s) / std::string(id); }

    // Creates the root and every state directory that is missing (mode 0750; when running as
    // root, handed to the owner of the root).
    Result<void> ensure_directories() const;

    // Writes a new entry into incoming/ (tmp, fsync, rename, fsync dir). message: the bytes;
    // or message_file when message is nullopt.
    Result<std::string> add(const Envelope& envelope, std::optional<std::string_view> message,
                            const std::filesystem::path& message_file, std::int64_t now_us) const;

    // Ids in one state directory, sorted (oldest first). Temporary names are skipped.
    Result<std::vector<std::string>> ids(State s) const;
    // Ids with the mtime of each file (deferred: the next attempt).
    Result<std::vector<std::pair<std::string, std::int64_t>>> ids_with_mtime(State s) const;

    // Every entry (or those in one state) with its header.
    Result<std::vector<ListedEntry>> list(std::optional<State> only) const;

    // Where an entry is now (nullopt: nowhere).
    std::optional<State> locate(std::string_view id) const;

    // Opens an entry and reads its header, without a lock (for `show`).
    Result<EntryFile> open(State s, std::string_view id) const;

    // Opens and locks an entry (flock LOCK_EX|LOCK_NB) and checks that the name still leads to
    // the locked file. why says what failed: Busy (another process holds it), Gone (it moved
    // away or was removed meanwhile), Damaged (locked, but the header is unreadable; the
    // returned error says why), Other (an I/O error).
    enum class LockFailure { None, Busy, Gone, Damaged, Other };
    Result<EntryFile> lock(State s, std::string_view id, LockFailure* why = nullptr) const;

    // Moves a locked entry to another state without changing it (rename + optional dir fsync).
    Result<void> move(EntryFile& f, State to, bool durable) const;

    // Writes the locked entry's new header (f.entry()) with the same message into state `to`:
    // tmp file (locked), fsync when durable, rename over the current name, rename into `to`.
    // f then refers to the new file (still locked). mtime_us > 0 sets the file's mtime.
    Result<void> rewrite(EntryFile& f, State to, bool durable, std::int64_t mtime_us = 0) const;

    // Removes a locked entry.
    Result<void> remove(EntryFile& f) const;

    // Renames an entry without reading or locking it (a damaged one goes to failed).
    Result<void> move_unread(State from, std::string_view id, State to) const;

    // Temporary files older than max_age_us (a crashed writer's leftovers).
    Result<std::size_t> remove_stale_tmp(std::int64_t now_us, std::int64_t max_age_us) const;

private:
    std::filesystem::path root_;
};

std::int64_t now_realtime_us();

}  // namespace pmx::queue
