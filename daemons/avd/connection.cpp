#include "connection.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "daemon/log.hpp"

namespace pmx::avd {

namespace {

class ReceivedFd {
public:
    ~ReceivedFd() { if (fd_ >= 0) ::close(fd_); }
    void take(int fd) {
        if (fd_ < 0) fd_ = fd;
        else ::close(fd);  // one fd per request; extra ones are dropped
    }
    int get() const { return fd_; }

private:
    int fd_ = -1;
};

bool send_all(int conn, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::send(conn, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Reads the request line (and any fd sent with it). Bytes after the newline stay in `rest`.
bool read_line(int conn, ReceivedFd& fd, std::string& line, std::string& rest, std::string& why) {
    std::string in;
    char buf[4096];
    for (;;) {
        msghdr msg{};
        iovec iov{buf, sizeof buf};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            why = errno == EAGAIN ? "client sent no request in time" : std::strerror(errno);
            return false;
        }
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count; ++i) {
                int f;
                std::memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                fd.take(f);
            }
        }
        if (n == 0) {
            why = "client closed before a full request line";
            return false;
        }
        in.append(buf, static_cast<std::size_t>(n));
        auto nl = in.find('\n');
        if (nl != std::string::npos) {
            line = in.substr(0, nl + 1);
            rest = in.substr(nl + 1);
            return true;
        }
        if (in.size() >= av::kMaxLineBytes) {
            why = "request line too long";
            return false;
        }
    }
}

bool read_exact(int conn, std::string& data, std::size_t want, std::string& why) {
    std::size_t have = data.size();
    data.resize(want);
    while (have < want) {
        ssize_t n = ::recv(conn, data.data() + have, want - have, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            why = n == 0 ? "client closed before sending all bytes" : std::strerror(errno);
            return false;
        }
        have += static_cast<std::size_t>(n);
    }
    return true;
}

void serve(int conn, const Handlers& h) {
    timeval tv{kClientIdleSeconds, 0};
    ::setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

    ReceivedFd fd;
    std::string line, rest, why;
    if (!read_line(conn, fd, line, rest, why)) {
        log::debug("Dropped a scan client: {}", why);
        return;
    }
    auto req = av::parse_request(line);
    if (!req) {
        send_all(conn, av::format_verdict(av::Verdict::error(req.error().message)));
        return;
    }
    switch (req->kind) {
        case av::RequestKind::Ping:
            send_all(conn, "PONG\n");
            return;
        case av::RequestKind::Status:
            send_all(conn, av::format_status(h.status()));
            return;
        case av::RequestKind::ScanFd: {
            if (fd.get() < 0) {
                send_all(conn, av::format_verdict(av::Verdict::error("SCAN FD came without an fd")));
                return;
            }
            send_all(conn, av::format_verdict(h.scan_fd(fd.get())));
            return;
        }
        case av::RequestKind::ScanBytes: {
            if (rest.size() > req->length) {
                send_all(conn, av::format_verdict(av::Verdict::error("more bytes than SCAN BYTES announced")));
                return;
            }
            if (!read_exact(conn, rest, req->length, why)) {
                log::debug("Dropped a scan client: {}", why);
                return;
            }
            send_all(conn, av::format_verdict(h.scan_bytes(rest)));
            return;
        }
    }
}

}  // namespace

void serve_connection(int conn, const Handlers& handlers) noexcept {
    try {
        serve(conn, handlers);
    } catch (const std::exception& e) {
        log::error("Failed to serve a scan request: {}", e.what());
        send_all(conn, av::format_verdict(av::Verdict::error("internal error")));
    } catch (...) {
        send_all(conn, av::format_verdict(av::Verdict::error("internal error")));
    }
}

}  // namespace pmx::avd
