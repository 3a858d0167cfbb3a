#!/bin/bash
# Self-test of tests/sandbox/pmx-sandbox (meant as a meson test; exit 77 = skip).
# One sandbox run (about a second) checks that inside it:
#   - `systemctl --user is-system-running` says running/degraded, and the
#     user bus answers `busctl --user list`;
#   - a Type=notify unit (with the hardening options our units use) starts,
#     is active, and its stdout line is in `journalctl` under
#     _SYSTEMD_UNIT=<unit>, with the manager's "Started" line under USER_UNIT=;
#   - syslog(3) through /dev/log reaches the sandbox journal;
#   - the unit stops; CMD's exit status comes out as pmx-sandbox's.
# and that afterwards the host is untouched: PID 1 not moved into an
# init.scope, no /run/systemd/system, no leftover cgroups, per-run directory
# or processes.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
sandbox=$here/pmx-sandbox

skip() { echo "SKIP: $*"; exit 77; }
((EUID == 0)) || skip "needs root"
[[ -e /run/systemd/system ]] && skip "systemd is running here (or we are inside a sandbox)"
[[ -d /sys/fs/cgroup/systemd && -d /sys/fs/cgroup/unified ]] || skip "needs the cgroup v1 hybrid layout"
command -v unshare >/dev/null || skip "needs unshare"

passed=0 failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
notok() { echo "not ok - $*"; failed=$((failed + 1)); }

work=$(mktemp -d "${TMPDIR:-/tmp}/pmx-selftest.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
pid1_cgroup_before=$(cat /proc/1/cgroup)

# The part that runs inside the sandbox: prints "ok - ..."/"not ok - ..." and
# exits 42 when everything passed (42 also checks the exit status plumbing).
cat >"$work/inner.sh" <<'INNER'
#!/bin/bash
set -u
fails=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
echo "$PMX_SANDBOX" >"$SELFTEST_WORK/name"
unit=pmx-selftest.service
token=pmx-selftest-$RANDOM$RANDOM

state=$(systemctl --user is-system-running 2>&1)
[[ $state == running || $state == degraded ]] && ok "systemctl --user is-system-running: $state" ||
    notok "systemctl --user is-system-running: $state"
busctl --user list >/dev/null 2>&1 && ok "busctl --user list" || notok "busctl --user list"
[[ -z $(ls -A /run/pmx) && -d /run/log/journal ]] && ok "private /run/pmx and /run/log" ||
    notok "private /run/pmx and /run/log"

mkdir -p "$XDG_RUNTIME_DIR/systemd/user"
cat >"$XDG_RUNTIME_DIR/systemd/user/$unit" <<EOF
[Unit]
Description=pmx sandbox self-test
[Service]
Type=notify
NotifyAccess=all
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
NoNewPrivileges=yes
ExecStart=/bin/sh -c 'echo $token; systemd-notify --ready; exec sleep 60'
EOF
systemctl --user daemon-reload || notok "daemon-reload"
if timeout 10 systemctl --user start "$unit"; then ok "start Type=notify $unit"; else notok "start Type=notify $unit"; fi
[[ $(systemctl --user is-active "$unit") == active ]] && ok "$unit is active" || notok "$unit is active"
logger -t pmx-selftest "syslog-$token"

found=0
for ((i = 0; i < 40; i++)); do
    journalctl --sync 2>/dev/null
    if journalctl -o cat --no-pager "_SYSTEMD_UNIT=$unit" | grep -qx "$token" &&
        journalctl -o cat --no-pager "USER_UNIT=$unit" | grep -q '^Started ' &&
        journalctl -o cat --no-pager -t pmx-selftest | grep -qx "syslog-$token"; then
        found=1; break
    fi
    sleep 0.05
done
((found)) && ok "journalctl shows the unit's stdout, the manager's Started line and syslog" || {
    notok "journalctl shows the unit's stdout, the manager's Started line and syslog"
    journalctl --no-pager -o verbose "_SYSTEMD_UNIT=$unit" + "USER_UNIT=$unit" | sed 's/^/# /'
}

timeout 10 systemctl --user stop "$unit" && [[ $(systemctl --user is-active "$unit") == inactive ]] &&
    ok "stop $unit" || notok "stop $unit"
((fails == 0)) && exit 42
exit 1
INNER
chmod +x "$work/inner.sh"

start=$(date +%s%N)
SELFTEST_WORK=$work "$sandbox" "$work/inner.sh" >"$work/out" 2>&1
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
cat "$work/out"
passed=$((passed + $(grep -c '^ok - ' "$work/out")))
failed=$((failed + $(grep -c '^not ok - ' "$work/out")))
if ((rc == 42)); then ok "CMD's exit status is pmx-sandbox's (42), in ${ms} ms"; else notok "pmx-sandbox exited $rc (want 42)"; fi

# The host afterwards.
name=$(cat "$work/name" 2>/dev/null)
grep -q init.scope /proc/1/cgroup && notok "PID 1 moved into an init.scope" || ok "PID 1 not in an init.scope"
[[ $(cat /proc/1/cgroup) == "$pid1_cgroup_before" ]] && ok "PID 1's cgroups unchanged" || notok "PID 1's cgroups changed"
[[ -e /run/systemd/system ]] && notok "/run/systemd/system exists on the host" || ok "no /run/systemd/system on the host"
if [[ -n $name ]]; then
    left=$(find /sys/fs/cgroup -maxdepth 4 -type d -name "$name" 2>/dev/null)
    [[ -z $left ]] && ok "sandbox cgroups removed" || notok "sandbox cgroups left: $left"
    [[ ! -e ${TMPDIR:-/tmp}/$name ]] && ok "per-run directory removed" || notok "per-run directory left: ${TMPDIR:-/tmp}/$name"
    stray=$(grep -lzx "PMX_SANDBOX=$name" /proc/[0-9]*/environ 2>/dev/null | grep -v "^/proc/$$/" | tr '\n' ' ')
    [[ -z $stray ]] && ok "no process of the sandbox left" || notok "processes of the sandbox left:$stray"
else
    notok "the sandbox never ran CMD"
fi

echo "$passed passed, $failed failed"
((failed == 0))
