#!/bin/bash
# pmx-httpd request rates over TLS (keep-alive), each divided by the rate of GET /health on the
# same server in the same run: what a session lookup, a scoped quarantine search and an admin
# method run through the pmx CLI cost on top of the server's own floor.
#   bench/httpd-bench.sh [SECONDS_PER_CASE] [BUILD_DIR]   (default 3 and build/; run as root)
# See bench/README.md for recorded results.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-3}
build=${2:-$src/build}
# Installs the build into a throwaway destdir (removed afterwards) and runs the inside part
# under the test sandbox, as the integration tests do.
exec "$src/tests/integration/sandbox-test.sh" "$build" "$src" "$src/bench/httpd-bench-inside.sh" "$seconds"
