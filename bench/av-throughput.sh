#!/bin/bash
# pmx-avd and the milter with AntiVirus on: scans per second straight to pmx-avd (next to
# the protocol's own round trips per second, PING, as the baseline), and messages per second
# through a real Postfix with av.enabled = true divided by av.enabled = false, measured
# back to back in one sandbox; plus pmx-avd's memory with the test signature database.
#   bench/av-throughput.sh [MESSAGES]     (default 2000; run as root, after the build)
# Uses 127.0.0.1:2535/2536 (Postfix, sink) and 17361 (milter). See bench/README.md.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PMX_BUILD:-$src/build}
count=${1:-2000}
# Installs the build into a throwaway destdir (removed afterwards) and runs the inside part
# under the test sandbox, as the integration tests do.
exec "$src/tests/integration/sandbox-test.sh" "$build" "$src" "$src/bench/av-throughput-inside.sh" "$count"
