#!/bin/bash
# The README's first command: installs what is missing, builds, installs pmx into
# ./_demo/root, and runs the whole gateway under a private systemd manager (a sandbox:
# this host's systemd, if any, is not touched). Shows `pmx status`, then stops.
#   --shell   stay inside the sandbox with a shell (pmx --user ... works there)
set -euo pipefail
cd "$(dirname "$0")/.."
shell=no
[ "${1:-}" = "--shell" ] && shell=yes

scripts/install-deps.sh
scripts/build.sh
root="$PWD/_demo/root"
rm -rf "$root"
meson install -C build --destdir "$root" --quiet --no-rebuild
echo "Installed into $root (prefix /usr/local)"

if [ "$shell" = yes ]; then
  exec tests/sandbox/pmx-sandbox --root "$root" --shell
fi
exec tests/sandbox/pmx-sandbox --root "$root" -- scripts/demo-inside-sandbox.sh
