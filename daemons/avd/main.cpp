// pmx-avd: the AntiVirus service (ClamAV engine, loaded once).
#include "daemon/socket_service.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("avd", argc, argv, [] {
        return std::make_unique<pmx::daemon::SocketService>(
            "av.socket", "ClamAV engine not loaded yet: scan requests are refused");
    });
}
