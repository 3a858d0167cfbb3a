#include "listen_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace pmx::httpd {

Result<HostPort> parse_host_port(std::string_view key, std::string_view value) {
    auto bad = [&](std::string_view why) {
        return Error{fmt::format("{} = \"{}\": {} (expected HOST:PORT, [IPv6]:PORT or *:PORT)", key, value, why)};
    };
    HostPort hp;
    std::string_view port;
    if (value.starts_with('[')) {
        auto close = value.find("]:");
        if (close == std::string_view::npos) return bad("no \"]:\" after the IPv6 address");
        hp.host = std::string(value.substr(1, close - 1));
        port = value.substr(close + 2);
        if (hp.host == "::") hp.host.clear();
    } else {
        auto colon = value.rfind(':');
        if (colon == std::string_view::npos) return bad("no port");
        hp.host = std::string(value.substr(0, colon));
        port = value.substr(colon + 1);
        if (hp.host.find(':') != std::string::npos) return bad("an IPv6 address goes in brackets");
        if (hp.host == "*") hp.host.clear();
    }
    int p = -1;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 0 || p > 65535)
        return bad("the port is not a number from 0 to 65535");
    hp.port = p;
    return hp;
}

ListenSocket& ListenSocket::operator=(ListenSocket&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = o.fd_;
        host_ = std::move(o.host_);
        port_ = o.port_;
        o.fd_ = -1;
    }
    return *this;
}

ListenSocket::~ListenSocket() {
    if (fd_ >= 0) ::close(fd_);
}

Result<ListenSocket> ListenSocket::open(std::string_view key, std::string_view value) {
    auto hp = parse_host_port(key, value);
    if (!hp) return hp.error();

    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    hints.ai_family = hp->host.empty() ? AF_INET6 : AF_UNSPEC;  // "*": one dual-stack socket
    addrinfo* res = nullptr;
    std::string service = std::to_string(hp->port);
    int gai = ::getaddrinfo(hp->host.empty() ? nullptr : hp->host.c_str(), service.c_str(), &hints, &res);
    if (gai != 0) return Error{fmt::format("Failed to resolve {} = \"{}\": {}", key, value, ::gai_strerror(gai))};
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);

    std::string last_error = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
        ListenSocket s;
        s.fd_ = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (s.fd_ < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int one = 1, zero = 0;
        ::setsockopt(s.fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6 && hp->host.empty())
            ::setsockopt(s.fd_, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        if (::bind(s.fd_, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(s.fd_, SOMAXCONN) != 0) {
            last_error = std::strerror(errno);
            continue;
        }
        sockaddr_storage bound{};
        socklen_t len = sizeof bound;
        if (::getsockname(s.fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
            last_error = std::strerror(errno);
            continue;
        }
        char text[INET6_ADDRSTRLEN] = {};
        if (bound.ss_family == AF_INET6) {
            auto* a = reinterpret_cast<sockaddr_in6*>(&bound);
            ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
            s.port_ = ntohs(a->sin6_port);
            s.host_ = fmt::format("[{}]", text);
        } else {
            auto* a = reinterpret_cast<sockaddr_in*>(&bound);
            ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
            s.port_ = ntohs(a->sin_port);
            s.host_ = text;
        }
        return s;
    }
    return Error{fmt::format("Failed to listen on {} = \"{}\": {}", key, value, last_error)};
}

std::string ListenSocket::url() const { return fmt::format("https://{}:{}", host_, port_); }

}  // namespace pmx::httpd
