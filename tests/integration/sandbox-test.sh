#!/bin/bash
# meson test wrapper: installs the build into a fresh destdir and runs one
# integration test script inside a private systemd --user manager (tests/sandbox/pmx-sandbox).
#   sandbox-test.sh BUILD_DIR SOURCE_DIR TEST_SCRIPT [ARGS...]
# The benchmarks that need the gateway (bench/*-bench.sh, *-throughput.sh) run through it too.
# The destdir (~330 MB) is removed however the test ends: the sandbox runs as a child (not
# exec'd, which would drop the EXIT trap), and a TERM from meson's timeout is passed on to it.
set -euo pipefail
build=$1 src=$2 script=$3
shift 3
root=$(mktemp -d /tmp/pmx-itest-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet --no-rebuild >/dev/null
"$src/tests/sandbox/pmx-sandbox" --root "$root" -- bash "$script" "$@" <&0 &
sandbox=$!
trap 'kill -TERM "$sandbox" 2>/dev/null; wait "$sandbox"; exit 143' TERM INT
wait "$sandbox"
