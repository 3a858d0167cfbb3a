#include "av/client.hpp"

#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace pmx::av {

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() { if (fd_ >= 0) ::close(fd_); }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// One exchange with the daemon under one deadline.
class Exchange {
public:
    Exchange(std::filesystem::path socket, Timeout timeout)
        : socket_(std::move(socket)), timeout_(timeout), deadline_(Clock::now() + timeout) {}

    Result<void> connect() {
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        if (socket_.native().size() >= sizeof addr.sun_path)
            return fail_with(fmt::format("socket path longer than {} bytes", sizeof addr.sun_path - 1));
        std::memcpy(addr.sun_path, socket_.c_str(), socket_.native().size());
        int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s < 0) return fail_with(std::strerror(errno));
        fd_ = std::make_unique<Fd>(s);
        for (;;) {
            if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return {};
            // A full listen backlog (every worker busy, queue full): wait a little, within the deadline.
            if (errno == EAGAIN && Clock::now() < deadline_) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            if (errno == EINTR) continue;
            return Error{fmt::format("Failed to connect to pmx-avd at {}: {}", socket_.string(), std::strerror(errno))};
        }
    }

    Result<void> send(std::string_view data, int pass_fd = -1) {
        while (!data.empty() || pass_fd >= 0) {
            if (auto r = wait(POLLOUT); !r) return r;
            msghdr msg{};
            iovec iov{const_cast<char*>(data.data()), data.size()};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
            if (pass_fd >= 0) {
                msg.msg_control = control;
                msg.msg_controllen = sizeof control;
                cmsghdr* c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                std::memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
            }
            ssize_t n = ::sendmsg(fd_->get(), &msg, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                return fail_with(fmt::format("sending: {}", std::strerror(errno)));
            }
            pass_fd = -1;  // sent with the first bytes
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    // Reads until the buffer ends with `terminator`; at most max bytes.
    Result<std::string> receive(std::string_view terminator, std::size_t max) {
        std::string in;
        char buf[4096];
        for (;;) {
            if (auto r = wait(POLLIN); !r) return r.error();
            ssize_t n = ::recv(fd_->get(), buf, sizeof buf, 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                return fail_with(fmt::format("reading the answer: {}", std::strerror(errno)));
            }
            if (n == 0) {
                if (!in.empty()) return in;  // the daemon answers, then closes
                return fail_with("it closed the connection without an answer");
            }
            in.append(buf, static_cast<std::size_t>(n));
            if (in.ends_with(terminator)) return in;
            if (in.size() > max) return fail_with("its answer is too long");
        }
    }

private:
    Result<void> wait(short events) {
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
            if (left <= 0)
                return Error{fmt::format("pmx-avd at {} did not answer within {} ms", socket_.string(), timeout_.count())};
            pollfd p{fd_->get(), events, 0};
            int r = ::poll(&p, 1, static_cast<int>(left));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) return fail_with(std::strerror(errno));
            if (r > 0) return {};
        }
    }

    Error fail_with(std::string_view why) const {
        return Error{fmt::format("Failed to talk to pmx-avd at {}: {}", socket_.string(), why)};
    }

    std::filesystem::path socket_;
    Timeout timeout_;
    Clock::time_point deadline_;
    std::unique_ptr<Fd> fd_;
};

Result<Verdict> read_verdict(Exchange& ex) {
    auto line = ex.receive("\n", kMaxLineBytes);
    if (!line) return line.error();
    return parse_verdict(*line);
}

}  // namespace

Result<Verdict> scan_fd(const std::filesystem::path& socket, int fd, Timeout timeout) {
    Exchange ex(socket, timeout);
    if (auto r = ex.connect(); !r) return r.error();
    if (auto r = ex.send(format_request({RequestKind::ScanFd, 0}), fd); !r) return r.error();
    return read_verdict(ex);
}

Result<Verdict> scan_bytes(const std::filesystem::path& socket, std::string_view bytes, Timeout timeout) {
    if (bytes.size() > kInlinePreferredBytes) {
        // Large: one copy into a memfd the daemon maps, instead of a copy through the socket
        // into the daemon's heap.
        Fd mem(::memfd_create("pmx-av-scan", MFD_CLOEXEC));
        if (mem.get() < 0) return Error{fmt::format("Failed to create a memfd for scanning: {}", std::strerror(errno))};
        for (std::string_view left = bytes; !left.empty();) {
            ssize_t n = ::write(mem.get(), left.data(), left.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return Error{fmt::format("Failed to fill a memfd for scanning: {}", std::strerror(errno))};
            left.remove_prefix(static_cast<std::size_t>(n));
        }
        return scan_fd(socket, mem.get(), timeout);
    }
    Exchange ex(socket, timeout);
    if (auto r = ex.connect(); !r) return r.error();
    std::string request = format_request({RequestKind::ScanBytes, bytes.size()});
    request.append(bytes);
    if (auto r = ex.send(request); !r) return r.error();
    return read_verdict(ex);
}

Result<StatusFields> query_status(const std::filesystem::path& socket, Timeout timeout) {
    Exchange ex(socket, timeout);
    if (auto r = ex.connect(); !r) return r.error();
    if (auto r = ex.send(format_request({RequestKind::Status, 0})); !r) return r.error();
    auto text = ex.receive("\n\n", kMaxStatusLines * kMaxLineBytes);
    if (!text) return text.error();
    std::string_view t = *text;
    if (!t.starts_with("STATUS\n")) {
        auto v = parse_verdict(t.substr(0, t.find('\n')));
        if (v && v->kind == VerdictKind::Error) return Error{fmt::format("pmx-avd refused STATUS: {}", v->reason)};
        return Error{"Failed to read pmx-avd's status: unexpected answer"};
    }
    return parse_status_lines(t.substr(7));
}

}  // namespace pmx::av
