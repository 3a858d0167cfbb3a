// The listening TCP sockets of pmx-httpd, from "HOST:PORT" settings (httpd.admin_listen,
// httpd.user_listen): "127.0.0.1:8443", "[::1]:8443", "mail.example.org:8443", or "*:8443" /
// "[::]:8443" for every address of both IPv4 and IPv6 (one dual-stack socket). Port 0 picks a
// free port; port() tells which.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace pmx::httpd {

struct HostPort {
    std::string host;  // without brackets; "" for every address
    int port = 0;
};

// Error names the key and says what is wrong.
Result<HostPort> parse_host_port(std::string_view key, std::string_view value);

class ListenSocket {
public:
    ListenSocket() = default;
    ListenSocket(ListenSocket&& o) noexcept : fd_(o.fd_), host_(std::move(o.host_)), port_(o.port_) { o.fd_ = -1; }
    ListenSocket& operator=(ListenSocket&& o) noexcept;
    ~ListenSocket();

    // Binds and listens (non-blocking, close-on-exec).
    static Result<ListenSocket> open(std::string_view key, std::string_view value);

    int fd() const { return fd_; }
    int release() { int f = fd_; fd_ = -1; return f; }  // the server owns it from now on
    // "https://127.0.0.1:8443", "https://[::1]:8443" with the real port.
    std::string url() const;
    int port() const { return port_; }

private:
    int fd_ = -1;
    std::string host_;  // numeric address bound
    int port_ = 0;
};

}  // namespace pmx::httpd
