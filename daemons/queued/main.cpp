// pmx-queued: the Queue Runner, pmx's own durable outbound queue.
#include "queue_runner.hpp"

int main(int argc, char** argv) {
    return pmx::daemon::run_daemon("queued", argc, argv, [] { return std::make_unique<pmx::queued::QueueRunner>(); });
}
