#!/bin/bash
# Messages per second through a real Postfix with pmx-milter and the default policy,
# divided by bare Postfix (no milter) measured in the same run, same machine, same load.
#   bench/milter-throughput.sh [MESSAGES]        (default 2000; run as root, after scripts/build.sh)
# Prints one line per message size and the ratio. See bench/README.md for recorded results.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
count=${1:-2000}
# Installs the build into a throwaway destdir (removed afterwards) and runs the inside part
# under the test sandbox, as the integration tests do.
exec "$src/tests/integration/sandbox-test.sh" "$src/build" "$src" "$src/bench/milter-throughput-inside.sh" "$count"
