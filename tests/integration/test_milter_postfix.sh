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
# Database and quarantine stay at their defaults, relative to the state directory:
# the daemons get it from systemd, `pmx --user` finds the same one.
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17357@127.0.0.1"
TOML
cp "$(dirname "$0")/fixtures/policy.toml" $confdir/policy.toml

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

sink_has() {  # sink_has PATTERN: some delivered message contains PATTERN
  grep -rlF -- "$1" "$pfx/sink" >/dev/null 2>&1
}

out=$(SWAKS_EXTRA="--header-X-Marker m-reject" send spammer@bad.test bob@example.test) || true
contains "550 5.7.1 No mail from spammer@bad.test"
pfx_wait_queue_empty "$pfx" 20
sink_has "m-reject" && fail "a rejected message was delivered"
ok "policy reject: Postfix answers the policy's 550 and nothing is delivered"

out=$(SWAKS_EXTRA="--header-X-Marker m-split" send alice@example.test bob@example.test carol@example.test) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
f=$(grep -rlF "m-split" "$pfx/sink" | head -1)
[ -n "$f" ] || fail "bob's copy was not delivered"
grep -q "bob@example.test" "$f" || fail "bob is not a recipient of the delivered copy"
grep -q "RCPT TO:<carol@example.test>\|X-Rcpt-Args: <carol@example.test>" "$f" && fail "carol got the copy held for her"
grep -q "^X-PMX-Scanned: yes" "$f" || fail "X-PMX-Scanned not added"
run 0 pmx --user quarantine list --recipient carol@example.test --json
[ "$(json_get 'len(j)')" -ge 1 ] || fail "no quarantine entry for carol"
[ "$(json_get 'j[0]["reason"]')" = "held for carol" ] || fail "wrong quarantine reason: $out"
qid=$(json_get 'j[0]["id"]')
run 0 pmx --user quarantine show "$qid" --raw
contains "m-split"
ok "per recipient: bob gets the message, carol's copy is quarantined whole, with its reason"

out=$(SWAKS_EXTRA="--header-X-Marker m-tag" send alice@example.test dave@example.test) || true
pfx_wait_queue_empty "$pfx" 20
f=$(grep -rlF "m-tag" "$pfx/sink" | head -1)
[ -n "$f" ] || fail "dave's message not delivered"
grep -q "^Subject: \[TAGGED\] pmx test" "$f" || fail "subject not tagged: $(grep ^Subject "$f")"
grep -q "^X-PMX-Test: tagged" "$f" || fail "header not added"
ok "tag_subject and add_header reach the delivered copy"

run 0 pmx --user list add block eve@evil.test
sleep 1.2  # running lookups notice list changes within a second
out=$(SWAKS_EXTRA="--header-X-Marker m-block" send eve@evil.test bob@example.test) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20
sink_has "m-block" && fail "a block-listed sender's message was delivered"
run 0 pmx --user quarantine list --sender eve@evil.test --json
[ "$(json_get 'j[0]["reason"]')" = "block-listed" ] || fail "block-listed message not quarantined: $out"
ok "a block-list entry added with pmx list takes effect within a second (no restart): quarantined"

# Only pmx-queued's signed stamp lets mail skip the filters: a made-up one (or a real one copied
# onto other mail) is removed and the message is judged like any other.
run 0 pmx --user secret list --json
[ "$(json_get 'len(j)')" -ge 1 ] || fail "pmx-milter did not create the keyring"
out=$(SWAKS_EXTRA="--header-X-Marker m-forged --header-X-PMX-Reinjected k.1.YQ.YQ" send eve@evil.test bob@example.test) || true
pfx_wait_queue_empty "$pfx" 20
sink_has "m-forged" && fail "a message with a forged re-injection stamp skipped the filters"
out=$(SWAKS_EXTRA="--header-X-Marker m-forged2 --header-X-PMX-Reinjected k.1.YQ.YQ" send alice@example.test bob@example.test) || true
pfx_wait_queue_empty "$pfx" 20
f=$(grep -rlF "m-forged2" "$pfx/sink" | head -1)
[ -n "$f" ] || fail "a message with a forged stamp from an allowed sender was not delivered"
grep -qi "^X-PMX-Reinjected" "$f" && fail "the forged stamp header was passed on"
ok "a forged X-PMX-Reinjected stamp does not pass: removed, and the message is filtered as usual"

run 0 pmx --user log --json --limit 20
[ "$(json_get 'len(j)')" -ge 5 ] || fail "message log has too few rows"
contains "spammer@bad.test"
ok "every message has a message-log row"

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
