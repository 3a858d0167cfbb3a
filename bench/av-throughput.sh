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
root=$(mktemp -d /tmp/pmx-bench-av-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet --no-rebuild >/dev/null
# Not exec: the EXIT trap must still remove the destdir (~330 MB) afterwards.
"$src/tests/sandbox/pmx-sandbox" --root "$root" -- bash "$src/bench/av-throughput-inside.sh" "$count"
