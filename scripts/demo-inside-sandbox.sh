#!/bin/bash
# Runs inside the sandbox (see run-gateway.sh): the gateway's life, shown step by step.
set -euo pipefail
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

step pmx --user enable
step pmx --user start
step pmx --user status
step pmx --user config set general.log_level debug
step pmx --user status
step pmx --user stop
step pmx --user status || true
