// One client connection of the scan socket: read one request (and the fd or bytes it
// carries), answer it, done. Blocking I/O with timeouts, on a worker thread of the pool.
#pragma once

#include <functional>
#include <string_view>

#include "av/protocol.hpp"

namespace pmx::avd {

struct Handlers {
    std::function<av::Verdict(int fd)> scan_fd;
    std::function<av::Verdict(std::string_view bytes)> scan_bytes;
    std::function<av::StatusFields()> status;
};

// A client that sends nothing (or reads nothing) for this long is dropped.
inline constexpr int kClientIdleSeconds = 30;

// Serves the request on conn (a blocking, connected unix stream socket) and returns;
// the caller closes conn. Never throws.
void serve_connection(int conn, const Handlers& handlers) noexcept;

}  // namespace pmx::avd
