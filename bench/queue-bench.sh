#!/bin/bash
# Delivery rate of pmx-queued to an smtp-sink, divided by smtp-source sending straight to the
# same sink, measured back to back in one sandbox (same run, same machine, same load).
#   bench/queue-bench.sh [MESSAGES] [BUILD_DIR]   (default 2000 and build/; run as root)
# Both sides: 4 KiB messages, one SMTP transaction per connection, 20 at once
# (smtp-source -s 20; queue.max_parallel = 20), then pmx-queued again with the default 4.
# See bench/README.md for recorded results.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-2000}
build=${2:-$src/build}
# Installs the build into a throwaway destdir (removed afterwards) and runs the inside part
# under the test sandbox, as the integration tests do.
exec "$src/tests/integration/sandbox-test.sh" "$build" "$src" "$src/bench/queue-bench-inside.sh" "$count"
