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
root=$(mktemp -d /tmp/pmx-bench-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet --no-rebuild >/dev/null
# Not exec: the EXIT trap must still remove the destdir (~330 MB) afterwards.
"$src/tests/sandbox/pmx-sandbox" --root "$root" -- bash "$src/bench/httpd-bench-inside.sh" "$seconds"
