#include "daemon/unix_listener.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.hpp"

namespace pmx::daemon {

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.release();
    }
    return *this;
}

UniqueFd::~UniqueFd() {
    if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<UnixListener>> UnixListener::open(sd_event* event, const std::filesystem::path& path,
                                                         OnAccept on_accept) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.native().size() >= sizeof addr.sun_path)
        return Error{fmt::format("Failed to listen on {}: path longer than {} bytes", path.string(), sizeof addr.sun_path - 1)};
    std::memcpy(addr.sun_path, path.c_str(), path.native().size());

    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return Error{fmt::format("Failed to listen on {}: a file that is not a socket is in the way", path.string())};
        ::unlink(path.c_str());  // left over from an earlier run
    }

    auto l = std::unique_ptr<UnixListener>(new UnixListener());
    l->path_ = path;
    l->on_accept_ = std::move(on_accept);
    l->fd_ = UniqueFd{::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (!l->fd_) return Error{fmt::format("Failed to create socket: {}", std::strerror(errno))};
    if (::bind(l->fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        return Error{fmt::format("Failed to bind {}: {}", path.string(), std::strerror(errno))};
    ::chmod(path.c_str(), 0660);
    if (::listen(l->fd_.get(), SOMAXCONN) < 0)
        return Error{fmt::format("Failed to listen on {}: {}", path.string(), std::strerror(errno))};
    int r = sd_event_add_io(event, &l->source_, l->fd_.get(), EPOLLIN, on_io, l.get());
    if (r < 0) return Error{fmt::format("Failed to watch {}: {}", path.string(), std::strerror(-r))};
    return l;
}

UnixListener::~UnixListener() {
    if (source_) sd_event_source_disable_unref(source_);
    if (!path_.empty()) ::unlink(path_.c_str());
}

int UnixListener::on_io(sd_event_source*, int fd, uint32_t, void* userdata) noexcept {
    auto* self = static_cast<UnixListener*>(userdata);
    for (;;) {
        int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log::warning("Failed to accept on {}: {}, ignoring", self->path_.string(), std::strerror(errno));
            return 0;
        }
        try {
            self->on_accept_(UniqueFd{c});
        } catch (const std::exception& e) {
            log::error("Failed to handle connection on {}: {}", self->path_.string(), e.what());
        }
    }
}

}  // namespace pmx::daemon
