// pmx-ipblockd's socket: Postfix policy delegation connections on the event loop.
#pragma once

#include <map>
#include <memory>

#include "daemon/socket_service.hpp"
#include "ipblock/policy_protocol.hpp"

namespace pmx::ipblockd {

class PolicyServer : public daemon::SocketService {
public:
    PolicyServer();
    ~PolicyServer() override;

protected:
    void on_connection(daemon::UniqueFd fd) override;

private:
    struct Connection;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    void handle_readable(Connection& c);
    void close_connection(Connection& c);
    std::string decide(const ipblock::PolicyRequest& request);

    std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace pmx::ipblockd
