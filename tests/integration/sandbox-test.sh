#!/bin/bash
# meson test wrapper: installs the build into a fresh destdir and runs one
# integration test script inside a private systemd --user manager (tests/sandbox/pmx-sandbox).
#   sandbox-test.sh BUILD_DIR SOURCE_DIR TEST_SCRIPT
set -euo pipefail
build=$1 src=$2 script=$3
root=$(mktemp -d /tmp/pmx-itest-XXXXXX)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet --no-rebuild >/dev/null
exec "$src/tests/sandbox/pmx-sandbox" --root "$root" -- bash "$script"
