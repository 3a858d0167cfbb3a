// A listening unix stream socket on the daemon's event loop.
// Each accepted connection is handed to the callback as an owned, non-blocking fd.
#pragma once

#include <systemd/sd-event.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "util/result.hpp"

namespace pmx::daemon {

// Closes the fd it owns.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
    UniqueFd& operator=(UniqueFd&& o) noexcept;
    ~UniqueFd();
    int get() const { return fd_; }
    int release() { int f = fd_; fd_ = -1; return f; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

class UnixListener {
public:
    using OnAccept = std::function<void(UniqueFd)>;

    // Binds path (a stale socket from a crash is replaced; any other file is an error),
    // listens, and watches it on the loop. Mode 0660: the MTA reaches it through the group.
    static Result<std::unique_ptr<UnixListener>> open(sd_event* event, const std::filesystem::path& path, OnAccept on_accept);
    ~UnixListener();

    const std::filesystem::path& path() const { return path_; }

private:
    UnixListener() = default;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;

    std::filesystem::path path_;
    UniqueFd fd_;
    sd_event_source* source_ = nullptr;
    OnAccept on_accept_;
};

}  // namespace pmx::daemon
