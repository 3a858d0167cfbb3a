#!/bin/bash
# Mail through a real Postfix and pmx-milter under the sandbox's systemd manager:
# the policy's verdicts reach the MTA per recipient, and a dead milter loses nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-pfx-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17357@127.0.0.1"
TOML

run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started with an inet milter socket"

pfx_start "$pfx" 2525 2526 || fail "private postfix did not start"
trap 'pfx_stop "$pfx"' EXIT
run 0 pmx mta postfix --apply -c "$pfx/etc"
run 0 postconf -c "$pfx/etc" -h smtpd_milters
[ "$out" = "inet:127.0.0.1:17357" ] || fail "pmx mta postfix wrote smtpd_milters = $out"
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null
sleep 1  # idle smtpd processes from before the reload finish first
ok "pmx mta postfix --apply configured Postfix"

send() {  # send FROM TO... ; extra swaks args in $SWAKS_EXTRA
  local from=$1; shift
  local to; to=$(IFS=,; echo "$*")
  swaks --server 127.0.0.1 --port 2525 --from "$from" --to "$to" --header "Subject: pmx test $RANDOM" \
        --body "hello from the pmx integration test" ${SWAKS_EXTRA:-} 2>&1
}

out=$(send alice@example.test bob@example.test) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "message stuck in the postfix queue"
[ "$(ls "$pfx/sink" | wc -l)" -ge 1 ] || fail "nothing reached the sink"
ok "a message passes Postfix and pmx-milter and is relayed"

run 0 pmx --user status --json milter
[ "$(json_get 'j[0]["daemon"]["counters"].get("messages", 0)')" -ge 1 ] || { echo "$out"; journalctl --no-pager | grep -i milter | tail; fail "milter did not count the message"; }
ok "pmx-milter counted it"

# A dead milter: Postfix tempfails (milter_default_action = tempfail), the sender keeps the mail.
systemctl --user kill --signal=SIGKILL pmx-milter.service
systemctl --user stop pmx-milter.service 2>/dev/null || true
out=$(send alice@example.test bob@example.test) || true
contains "451 4.7.1"
lacks "queued as"
ok "with pmx-milter killed, Postfix answers 451: nothing is accepted, nothing is lost"

run 0 pmx --user start milter
out=$(send alice@example.test bob@example.test) || true
contains "250 2.0.0 Ok: queued"
ok "after restart the retried message is accepted"

echo "all $pass checks passed"
