// pmx-queued: the Queue Runner, pmx's own durable outbound queue.
#include "daemon/socket_service.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("queued", argc, argv, [] {
        return std::make_unique<pmx::daemon::SocketService>(
            "queue.socket", "queue not implemented yet: nothing is spooled or delivered, submissions are refused");
    });
}
