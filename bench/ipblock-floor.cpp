// The floor for bench/ipblock-bench: the smallest policy responder, on the same event loop
// library and the same request parser as pmx-ipblockd, answering DUNNO without any lookup.
//   pmx-bench-ipblock-floor SOCKET_PATH
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>

#include "ipblock/policy_protocol.hpp"

namespace {

struct Conn {
    int fd;
    sd_event_source* src = nullptr;
    pmx::ipblock::PolicyParser parser;
    ~Conn() {
        if (src) sd_event_source_disable_unref(src);
        ::close(fd);
    }
};
std::map<Conn*, std::unique_ptr<Conn>> conns;

int on_conn(sd_event_source*, int fd, uint32_t, void* ud) {
    auto* c = static_cast<Conn*>(ud);
    char buf[8192];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    if (n <= 0) { conns.erase(c); return 0; }
    c->parser.feed({buf, static_cast<size_t>(n)});
    pmx::ipblock::PolicyRequest r;
    std::string out;
    while (c->parser.next(r) == pmx::ipblock::PolicyParser::Status::Request) out += pmx::ipblock::format_policy_reply("DUNNO");
    if (!out.empty() && ::send(fd, out.data(), out.size(), MSG_NOSIGNAL) < 0) conns.erase(c);
    return 0;
}

int on_accept(sd_event_source* s, int fd, uint32_t, void*) {
    for (;;) {
        int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) return 0;
        auto conn = std::make_unique<Conn>();
        conn->fd = c;
        sd_event_add_io(sd_event_source_get_event(s), &conn->src, c, EPOLLIN, on_conn, conn.get());
        conns.emplace(conn.get(), std::move(conn));
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
        return 2;
    }
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1]);
    ::unlink(argv[1]);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(fd, 128) < 0) {
        std::perror("bind/listen");
        return 1;
    }
    sd_event* e = nullptr;
    sd_event_default(&e);
    sd_event_add_io(e, nullptr, fd, EPOLLIN, on_accept, nullptr);
    return sd_event_loop(e) < 0 ? 1 : 0;
}
