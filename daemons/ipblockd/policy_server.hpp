// pmx-ipblockd's sockets: Postfix policy delegation connections on the event loop, answered
// from the current lists (BlocklistState) with DUNNO or REJECT.
#pragma once

#include <map>
#include <memory>

#include "block_poller.hpp"
#include "blocklist_state.hpp"
#include "daemon/socket_service.hpp"
#include "ipblock/policy_protocol.hpp"
#include "tcp_listener.hpp"

namespace pmx::ipblockd {

class PolicyServer : public daemon::SocketService {
public:
    PolicyServer();
    ~PolicyServer() override;

    Result<void> start(daemon::Daemon& daemon) override;
    Result<void> prepare_reload(const config::Snapshot& next) override;
    std::string status_text() const override;
    std::string listen() const override;

protected:
    void on_connection(daemon::UniqueFd fd) override;

private:
    struct Connection;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    void handle_readable(Connection& c);
    void close_connection(Connection& c);
    std::string decide(const ipblock::PolicyRequest& request);
    Result<void> load_files(const config::Snapshot& cfg);

    BlocklistState state_;
    std::unique_ptr<BlockPoller> poller_;
    std::unique_ptr<TcpListener> tcp_;
    std::map<Connection*, std::unique_ptr<Connection>> connections_;
};

}  // namespace pmx::ipblockd
