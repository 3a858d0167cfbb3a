#include "policy_server.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "daemon/log.hpp"

namespace pmx::ipblockd {

struct PolicyServer::Connection {
    Connection(PolicyServer* s, daemon::UniqueFd f) : server(s), fd(std::move(f)) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    PolicyServer* server;
    daemon::UniqueFd fd;
    sd_event_source* source = nullptr;
    ipblock::PolicyParser parser;
    ~Connection() {
        if (source) sd_event_source_disable_unref(source);
    }
};

PolicyServer::PolicyServer()
    : SocketService("ipblock.socket", "no block lists loaded yet: every client is answered DUNNO") {}

PolicyServer::~PolicyServer() = default;

void PolicyServer::on_connection(daemon::UniqueFd fd) {
    auto c = std::make_unique<Connection>(this, std::move(fd));
    int r = sd_event_add_io(daemon().event(), &c->source, c->fd.get(), EPOLLIN, on_io, c.get());
    if (r < 0) {
        log::warning("Failed to watch policy connection: {}, closing it", std::strerror(-r));
        return;
    }
    daemon().counters().add("connections");
    connections_.emplace(c.get(), std::move(c));
}

int PolicyServer::on_io(sd_event_source*, int, uint32_t, void* userdata) noexcept {
    auto* c = static_cast<Connection*>(userdata);
    try {
        c->server->handle_readable(*c);
    } catch (const std::exception& e) {
        log::error("Failed to serve policy request: {}, closing connection", e.what());
        c->server->close_connection(*c);
    }
    return 0;
}

void PolicyServer::handle_readable(Connection& c) {
    char buf[8192];
    ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { close_connection(c); return; }
    c.parser.feed({buf, static_cast<size_t>(n)});

    ipblock::PolicyRequest request;
    for (;;) {
        auto status = c.parser.next(request);
        if (status == ipblock::PolicyParser::Status::NeedMore) return;
        if (status == ipblock::PolicyParser::Status::Error) {
            daemon().counters().add("protocol_errors");
            log::warning("Policy client sent a bad request ({}), closing connection", c.parser.error());
            close_connection(c);
            return;
        }
        daemon().counters().add("requests");
        std::string reply = ipblock::format_policy_reply(decide(request));
        // Replies are tiny and the peer waits for each one, so a blocking-style send loop is fine.
        for (size_t off = 0; off < reply.size();) {
            ssize_t w = ::send(c.fd.get(), reply.data() + off, reply.size() - off, MSG_NOSIGNAL);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { close_connection(c); return; }
            off += static_cast<size_t>(w);
        }
    }
}

std::string PolicyServer::decide(const ipblock::PolicyRequest& request) {
    auto it = request.find("client_address");
    log::debug("Policy request for client {}: DUNNO (no block lists loaded)",
               it == request.end() ? "(none)" : it->second);
    daemon().counters().add("dunno");
    return "DUNNO";
}

void PolicyServer::close_connection(Connection& c) { connections_.erase(&c); }

}  // namespace pmx::ipblockd
