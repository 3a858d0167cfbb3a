#!/bin/bash
# The README's second command: installs what is missing, builds, runs every test
# (unit tests, then integration tests against a real systemd manager in a sandbox).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh -Dwerror=true
meson test -C build --print-errorlogs --num-processes 2 "$@"
