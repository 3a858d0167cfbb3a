#!/bin/bash
# The gateway's life under a real systemd manager: enable, start, status, reload,
# config set, a daemon that fails on bad config, disable, stop.
source "$(dirname "$0")/lib.sh"

services="milter ipblockd queued avd httpd"
confdir=/usr/local/etc/pmx
# pmx-httpd on free ports (port 0): nothing on the host can be in its way.
mkdir -p $confdir
printf '[httpd]\nadmin_listen = "127.0.0.1:0"\nuser_listen = "127.0.0.1:0"\n' > $confdir/pmx.toml

run 0 pmx --version
contains "pmx "
ok "pmx --version"

run 0 pmx --user enable
contains "pmx.target"
[ "$(systemctl --user is-enabled pmx-scheduler.target)" = enabled ] || fail "the Scheduler was not enabled with pmx.target"
ok "enable links pmx.target, the services and the Scheduler"

run 0 pmx --user start
for s in $services; do
  [ "$(systemctl --user is-active pmx-$s.service)" = active ] || fail "pmx-$s not active after start"
done
ok "start: all five services active"

run 0 pmx --user status
for s in $services; do contains "pmx-$s"; done
contains "active (running)"
lacks "failed"
ok "status table shows every service active"

run 0 pmx --user status --json
[ "$(json_get 'len(j)')" = 5 ] || fail "status --json has not 5 entries"
[ "$(json_get 'all(e["active_state"] == "active" for e in j)')" = True ] || fail "not all active in json"
[ "$(json_get 'all(e["daemon"]["config_generation"] == 1 for e in j)')" = True ] || fail "generation != 1 at start"
[ "$(json_get '[e for e in j if e["id"] == "ipblockd"][0]["daemon"]["listen"]')" != "" ] || fail "no listen address"
ok "status --json: daemons report version, generation 1, listen address"

# The IP Blocker answers Postfix's policy protocol on its socket.
sock=$(json_get '[e for e in j if e["id"] == "ipblockd"][0]["daemon"]["listen"]')
reply=$(python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nclient_address=127.0.0.5\n\n")
print(s.recv(100).decode().strip())
PY
)
[ "$reply" = "action=DUNNO" ] || fail "policy reply was: $reply"
ok "pmx-ipblockd answers a policy request (DUNNO)"

run 0 pmx --user reload
run 0 pmx --user status --json
[ "$(json_get 'all(e["daemon"]["config_generation"] == 2 for e in j)')" = True ] || fail "reload did not bump every generation"
ok "reload: every daemon on config generation 2"

run 0 pmx --user config set milter.max_recipients 50
contains "pmx-milter.service: reloaded"
run 0 pmx --user status --json
[ "$(json_get '[e for e in j if e["id"] == "milter"][0]["daemon"]["config_generation"]')" = 3 ] || fail "milter not reloaded"
[ "$(json_get 'sorted(e["daemon"]["config_generation"] for e in j if e["id"] != "milter")')" = "[2, 2, 2, 2]" ] || fail "other daemons reloaded too"
run 0 pmx config get milter.max_recipients
[ "$out" = 50 ] || fail "config get says $out"
[ -f $confdir/pmx.toml.d/90-pmx-config-set.toml ] || fail "own drop-in missing"
ok "config set: only pmx-milter reloads (generation 3), others stay at 2"

# What the av-reload and ipblock-reload jobs run: Reload() straight over D-Bus.
run 0 pmx --user av reload
contains "pmx-avd.service: reloaded"
run 0 pmx --user ipblock reload
contains "pmx-ipblockd.service: reloaded"
run 0 pmx --user status --json
[ "$(json_get 'sorted(e["daemon"]["config_generation"] for e in j if e["id"] in ("avd", "ipblockd"))')" = "[3, 3]" ] \
  || fail "av/ipblock reload did not reach the daemons: $out"
ok "pmx av reload / pmx ipblock reload call each daemon's Reload() directly"

run 2 pmx --user config set milter.max_recipients 0
contains "out of range"
run 2 pmx --user config set milter.max_recipient 5
contains 'did you mean "milter.max_recipients"'
ok "config set refuses bad values and unknown keys"

# A daemon that fails to start: bad config in an admin drop-in.
mkdir -p $confdir/pmx.toml.d
printf '[ipblock]\non_failur = "pass"\n' > $confdir/pmx.toml.d/50-broken.toml
run 1 pmx --user restart ipblockd
contains "pmx-ipblockd.service"
contains "50-broken.toml:2:1: ipblock.on_failur: unknown key"
ok "restart with bad config fails and shows file:line:column and key"

run 1 pmx --user reload milter
contains "50-broken.toml:2:1"
run 0 pmx --user status --json milter
[ "$(json_get '[e for e in j if e["id"] == "milter"][0]["daemon"]["config_generation"]')" = 3 ] || fail "failed reload changed generation"
ok "reload with bad config fails, the daemon keeps its config"

run 1 pmx config check
contains "50-broken.toml:2:1"
rm $confdir/pmx.toml.d/50-broken.toml
run 0 pmx config check
run 0 pmx --user start ipblockd
ok "config check; fixed config starts again"

run 0 pmx --user disable milter
run 0 pmx --user stop
run 3 pmx --user status
ok "stop: status exits 3 when services are down"
run 0 pmx --user start
[ "$(systemctl --user is-active pmx-milter.service)" != active ] || fail "disabled milter started with the target"
[ "$(systemctl --user is-active pmx-avd.service)" = active ] || fail "avd did not start"
ok "disable: milter no longer starts with pmx.target"

run 0 pmx --user start milter
run 0 pmx --user stop milter
[ "$(systemctl --user is-active pmx-milter.service)" != active ] || fail "milter still active"
run 0 pmx --user stop
ok "start/stop of one service"

run 2 pmx --user start nosuchservice
contains "milter"
ok "unknown service names are refused with the valid ones"

echo "all $pass checks passed"
