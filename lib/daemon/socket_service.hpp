// A Service that owns one unix socket named by a config key. Daemons whose protocol
// work is still to come use it as is: they listen, refuse each connection by closing
// it (the peer sees an error and retries or applies its own default), and say so in
// their status. Daemons with a protocol override on_connection().
#pragma once

#include <memory>
#include <string>

#include "daemon/daemon.hpp"
#include "daemon/unix_listener.hpp"

namespace pmx::daemon {

class SocketService : public Service {
public:
    // socket_key: the schema key holding the socket path ("milter.socket").
    // not_yet: what this daemon does not do yet, shown in status; empty when it does its job.
    SocketService(std::string socket_key, std::string not_yet);

    Result<void> start(Daemon& daemon) override;
    std::string status_text() const override;
    std::string listen() const override;

protected:
    // Default: count and close.
    virtual void on_connection(UniqueFd fd);
    Daemon& daemon() { return *daemon_; }
    const Daemon& daemon() const { return *daemon_; }

private:
    std::string socket_key_;
    std::string not_yet_;
    Daemon* daemon_ = nullptr;
    std::unique_ptr<UnixListener> listener_;
};

}  // namespace pmx::daemon
