// pmx-milter: the policy engine the MTA calls through libmilter.
#include "daemon/socket_service.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("milter", argc, argv, [] {
        return std::make_unique<pmx::daemon::SocketService>(
            "milter.socket",
            "policy engine not implemented yet: connections are closed, so the MTA applies its milter_default_action");
    });
}
