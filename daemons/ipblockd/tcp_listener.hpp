// The optional loopback TCP policy socket (ipblock.tcp_listen): for an MTA that cannot reach
// /run/pmx (another container on the same host). Loopback only: the protocol has no auth.
#pragma once

#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <string>

#include "daemon/unix_listener.hpp"
#include "util/result.hpp"

namespace pmx::ipblockd {

class TcpListener {
public:
    using OnAccept = std::function<void(daemon::UniqueFd)>;
    // spec: "127.0.0.1:PORT" or "[::1]:PORT" (any 127.0.0.0/8 address).
    static Result<std::unique_ptr<TcpListener>> open(sd_event* event, const std::string& spec, OnAccept on_accept);
    ~TcpListener();
    const std::string& spec() const { return spec_; }

private:
    TcpListener() = default;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    std::string spec_;
    daemon::UniqueFd fd_;
    sd_event_source* source_ = nullptr;
    OnAccept on_accept_;
};

}  // namespace pmx::ipblockd
