// pmx-ipblockd: the IP Blocker, answering Postfix policy delegation requests.
#include "policy_server.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("ipblockd", argc, argv, [] { return std::make_unique<pmx::ipblockd::PolicyServer>(); });
}
