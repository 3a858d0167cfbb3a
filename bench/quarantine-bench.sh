#!/bin/bash
# Quarantine benchmark (see bench/README.md): insert rate of store::quarantine() against a bare
# durable file write, and search latency at N entries against a full table scan, one run.
#   bench/quarantine-bench.sh [--entries N] [--inserts N] [--dir DIR]   (default 1000000, 1000, /var/tmp)
#   BUILD=build-foo bench/quarantine-bench.sh                           (default build dir: build)
# The directory should be on a real disk (not tmpfs): inserts fsync.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/${BUILD:-build}
[ -x "$build/bench/pmx-bench-quarantine" ] || { echo "no $build/bench/pmx-bench-quarantine: build first (scripts/build.sh)" >&2; exit 1; }
exec "$build/bench/pmx-bench-quarantine" "$@"
