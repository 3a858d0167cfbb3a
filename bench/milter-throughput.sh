#!/bin/bash
# Messages per second through a real Postfix with pmx-milter and the default policy,
# divided by bare Postfix (no milter) measured in the same run, same machine, same load.
#   bench/milter-throughput.sh [MESSAGES]        (default 2000; run as root, after scripts/build.sh)
# Prints one line per message size and the ratio. See bench/README.md for recorded results.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-2000}
root=$(mktemp -d /tmp/pmx-bench-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$src/build" --destdir "$root" --quiet --no-rebuild >/dev/null
# Not exec: the EXIT trap must still remove the destdir (~330 MB) afterwards.
"$src/tests/sandbox/pmx-sandbox" --root "$root" -- bash "$src/bench/milter-throughput-inside.sh" "$count"
