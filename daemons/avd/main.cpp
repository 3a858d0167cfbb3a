// pmx-avd: the AntiVirus service (ClamAV engine, loaded once, swapped whole on reload).
#include "av_service.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("avd", argc, argv, [] { return std::make_unique<pmx::avd::AvService>(); });
}
