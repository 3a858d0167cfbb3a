#include "daemon/socket_service.hpp"

#include <fmt/format.h>

namespace pmx::daemon {

SocketService::SocketService(std::string socket_key, std::string not_yet)
    : socket_key_(std::move(socket_key)), not_yet_(std::move(not_yet)) {}

Result<void> SocketService::start(Daemon& daemon) {
    daemon_ = &daemon;
    auto path = Daemon::runtime_path(daemon.config()->string(socket_key_));
    auto l = UnixListener::open(daemon.event(), path, [this](UniqueFd fd) { on_connection(std::move(fd)); });
    if (!l) return l.error();
    listener_ = std::move(*l);
    return {};
}

std::string SocketService::status_text() const {
    std::string s = fmt::format("Listening on {}", listen());
    if (!not_yet_.empty()) s += "; " + not_yet_;
    return s;
}

std::string SocketService::listen() const { return listener_ ? listener_->path().string() : "-"; }

void SocketService::on_connection(UniqueFd fd) {
    daemon_->counters().add("connections_refused");
    (void)fd;  // closing it is the answer
}

}  // namespace pmx::daemon
