#include "ipblock_check.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "daemon/daemon.hpp"
#include "daemon/log.hpp"

namespace pmx::milter {

namespace {

constexpr auto kDeadline = std::chrono::milliseconds(2000);
constexpr std::size_t kMaxReply = 4096;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

// The whole exchange within one deadline; "" when it failed (reason in error).
std::string exchange(const std::string& path, const std::string& request, std::string& error) {
    Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
    if (s.fd < 0) return error = std::strerror(errno), "";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) return error = "socket path too long", "";
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 && errno != EINPROGRESS)
        return error = fmt::format("connect {}: {}", path, std::strerror(errno)), "";
    const auto end = std::chrono::steady_clock::now() + kDeadline;
    auto wait = [&](short events) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd p{s.fd, events, 0};
        return ::poll(&p, 1, static_cast<int>(left.count())) == 1;
    };
    for (std::size_t sent = 0; sent < request.size();) {
        if (!wait(POLLOUT)) return error = "timed out sending", "";
        ssize_t n = ::send(s.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN) return error = std::strerror(errno), "";
        if (n > 0) sent += static_cast<std::size_t>(n);
    }
    std::string reply;
    while (reply.find("\n\n") == std::string::npos) {
        if (reply.size() > kMaxReply) return error = "reply too long", "";
        if (!wait(POLLIN)) return error = "timed out waiting for the answer", "";
        char buf[1024];
        ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
        if (n == 0) return error = "connection closed before the answer", "";
        if (n < 0 && errno != EAGAIN) return error = std::strerror(errno), "";
        if (n > 0) reply.append(buf, static_cast<std::size_t>(n));
    }
    return reply;
}

bool is_status(std::string_view s, char first) {
    return s.size() == 3 && s[0] == first && std::isdigit(static_cast<unsigned char>(s[1])) &&
           std::isdigit(static_cast<unsigned char>(s[2]));
}

}  // namespace

ConnectDecision ask_ipblockd(const config::Snapshot& config, std::string_view client_ip) {
    ConnectDecision d;
    if (client_ip.empty()) return d;  // local submission
    const auto path = daemon::Daemon::runtime_path(config.string("ipblock.socket")).string();
    const std::string request = fmt::format(
        "request=smtpd_access_policy\nprotocol_state=CONNECT\nprotocol_name=SMTP\nclient_address={}\n\n", client_ip);
    std::string error;
    std::string reply = exchange(path, request, error);
    if (reply.empty()) {
        const bool tempfail = config.string("ipblock.on_failure") == "tempfail";
        log::warning("IP Blocker not reachable for {} ({}): {}", client_ip, error, tempfail ? "tempfail" : "pass");
        if (tempfail) d = {ConnectDecision::Kind::Tempfail, "451", "4.3.0", "IP check unavailable, try again later"};
        return d;
    }
    // "action=REJECT 5.7.1 Client address ... is blocked: ...", "action=DEFER ...", "action=DUNNO"
    std::string_view action(reply);
    action = action.substr(0, action.find('\n'));
    if (!action.starts_with("action=")) return d;
    action.remove_prefix(7);
    auto word_end = action.find(' ');
    std::string_view verb = action.substr(0, word_end);
    std::string_view text = word_end == std::string_view::npos ? std::string_view{} : action.substr(word_end + 1);
    if (verb == "REJECT" || is_status(verb, '5')) {
        d = {ConnectDecision::Kind::Reject, verb == "REJECT" ? "550" : std::string(verb), "5.7.1", ""};
    } else if (verb == "DEFER" || verb == "DEFER_IF_PERMIT" || is_status(verb, '4')) {
        d = {ConnectDecision::Kind::Tempfail, verb.starts_with("4") ? std::string(verb) : "451", "4.7.1", ""};
    } else {
        return d;
    }
    // A leading enhanced status code in the text is the xcode.
    if (text.size() > 5 && (text[0] == '4' || text[0] == '5') && text[1] == '.') {
        auto sp = text.find(' ');
        d.xcode = std::string(text.substr(0, sp));
        text = sp == std::string_view::npos ? std::string_view{} : text.substr(sp + 1);
    }
    d.text = text.empty() ? "Client address blocked" : std::string(text);
    return d;
}

}  // namespace pmx::milter
