#include "tcp_listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.hpp"

namespace pmx::ipblockd {

Result<std::unique_ptr<TcpListener>> TcpListener::open(sd_event* event, const std::string& spec, OnAccept on_accept) {
    auto bad = [&](std::string_view why) {
        return Error{fmt::format("Failed to listen on ipblock.tcp_listen = \"{}\": {}", spec, why)};
    };
    std::string host, port;
    if (spec.starts_with("[")) {
        auto close = spec.find("]:");
        if (close == std::string::npos) return bad("expected [::1]:PORT");
        host = spec.substr(1, close - 1);
        port = spec.substr(close + 2);
    } else {
        auto colon = spec.rfind(':');
        if (colon == std::string::npos) return bad("expected 127.0.0.1:PORT");
        host = spec.substr(0, colon);
        port = spec.substr(colon + 1);
    }
    int p = 0;
    for (char c : port) {
        if (c < '0' || c > '9' || p > 65535) return bad("the port is not a number from 1 to 65535");
        p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return bad("the port is not a number from 1 to 65535");

    sockaddr_storage ss{};
    socklen_t len = 0;
    int family = AF_INET;
    if (host.find(':') != std::string::npos) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        if (inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1 || !IN6_IS_ADDR_LOOPBACK(&a->sin6_addr))
            return bad("only a loopback address (127.0.0.1, ::1) is allowed: the policy protocol has no authentication");
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(static_cast<uint16_t>(p));
        len = sizeof *a;
        family = AF_INET6;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        if (inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1 || (ntohl(a->sin_addr.s_addr) >> 24) != 127)
            return bad("only a loopback address (127.0.0.1, ::1) is allowed: the policy protocol has no authentication");
        a->sin_family = AF_INET;
        a->sin_port = htons(static_cast<uint16_t>(p));
        len = sizeof *a;
    }
    std::unique_ptr<TcpListener> l(new TcpListener());
    l->spec_ = spec;
    l->on_accept_ = std::move(on_accept);
    l->fd_ = daemon::UniqueFd(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!l->fd_) return bad(std::strerror(errno));
    int one = 1;
    setsockopt(l->fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(l->fd_.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) return bad(std::strerror(errno));
    if (::listen(l->fd_.get(), 128) < 0) return bad(std::strerror(errno));
    int r = sd_event_add_io(event, &l->source_, l->fd_.get(), EPOLLIN, on_io, l.get());
    if (r < 0) return bad(std::strerror(-r));
    return l;
}

TcpListener::~TcpListener() {
    if (source_) sd_event_source_disable_unref(source_);
}

int TcpListener::on_io(sd_event_source*, int fd, uint32_t, void* userdata) noexcept {
    auto* l = static_cast<TcpListener*>(userdata);
    for (;;) {
        int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                log::warning("Failed to accept a TCP policy connection: {}", std::strerror(errno));
            return 0;
        }
        int one = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        try {
            l->on_accept_(daemon::UniqueFd(c));
        } catch (const std::exception& e) {
            log::error("Failed to take a TCP policy connection: {}", e.what());
        }
    }
}

}  // namespace pmx::ipblockd
