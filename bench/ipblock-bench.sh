#!/bin/bash
# IP Blocker benchmark (see bench/README.md): runs build/bench/pmx-bench-ipblock with a private
# D-Bus session bus for pmx-ipblockd. Arguments go to the program:
#   bench/ipblock-bench.sh [--entries N] [--seconds S] [--clients C] [--hit-percent P] [--rounds R]
#   BUILD=build-foo bench/ipblock-bench.sh     (default build dir: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/${BUILD:-build}
[ -x "$build/bench/pmx-bench-ipblock" ] || { echo "no $build/bench/pmx-bench-ipblock: build first (scripts/build.sh)" >&2; exit 1; }
exec dbus-run-session -- "$build/bench/pmx-bench-ipblock" "$@"
