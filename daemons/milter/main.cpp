// pmx-milter: the policy engine the MTA calls through libmilter.
#include "daemon/daemon.hpp"
#include "milter_service.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("milter", argc, argv, [] { return std::make_unique<pmx::milter::MilterService>(); });
}
