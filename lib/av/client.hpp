// The client side of pmx-avd's scan socket (protocol.hpp), for the milter and the CLI.
// Every call has one deadline for the whole exchange (connect, send, scan, answer):
// a daemon that is down, stuck or overloaded is an Error, never a hang.
#pragma once

#include <chrono>
#include <filesystem>
#include <string_view>

#include "av/protocol.hpp"
#include "util/result.hpp"

namespace pmx::av {

using Timeout = std::chrono::milliseconds;

// Buffers up to this size go inline (SCAN BYTES); larger ones through a memfd (SCAN FD).
inline constexpr std::size_t kInlinePreferredBytes = 256 * 1024;

// Scans the regular file (or memfd) behind fd, read from offset 0 whatever the fd's position.
// A Verdict (even VerdictKind::Error, the daemon's own failure) means the daemon answered.
Result<Verdict> scan_fd(const std::filesystem::path& socket, int fd, Timeout timeout);

// Scans bytes held in memory.
Result<Verdict> scan_bytes(const std::filesystem::path& socket, std::string_view bytes, Timeout timeout);

// The daemon's STATUS fields (engine, signatures, counters).
Result<StatusFields> query_status(const std::filesystem::path& socket, Timeout timeout);

}  // namespace pmx::av
