#!/bin/bash
# Reports through the real path: mail with different verdicts through a real Postfix and
# pmx-milter under the sandbox's systemd manager, then `pmx report consolidate` and the
# reports show the right numbers as JSON and CSV.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-report-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17369@127.0.0.1"
TOML
cp "$(dirname "$0")/fixtures/policy.toml" $confdir/policy.toml

run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started"

trap 'pfx_stop "$pfx"' EXIT
pfx_start_filtered "$pfx" 2625 2626

send() {  # send FROM TO...
  local from=$1; shift
  local to; to=$(IFS=,; echo "$*")
  swaks --server 127.0.0.1 --port 2625 --from "$from" --to "$to" --header "Subject: report test $RANDOM" \
        --body "hello from the pmx report test" 2>&1
}

# 3 accepted (bob twice, dave), 1 rejected (spammer), carol's copy quarantined (bob gets his).
out=$(send alice@example.test bob@example.test) || true; contains "250 2.0.0 Ok: queued"
out=$(send Alice@Example.test dave@example.test) || true; contains "250 2.0.0 Ok: queued"
out=$(send spammer@bad.test bob@example.test) || true; contains "550 5.7.1"
out=$(send alice@example.test bob@example.test carol@example.test) || true; contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"
run 0 pmx --user log --json --limit 20
[ "$(json_get 'len(j)')" -eq 4 ] || fail "expected 4 message-log rows: $out"
ok "4 messages judged: accepted, tagged, rejected, split accept/quarantine"

run 0 pmx --user report verdicts --json
[ "$out" = "[]" ] || fail "reports before consolidation should be empty: $out"
run 0 pmx --user report consolidate --json
[ "$(json_get 'j["log_rows"]')" -eq 4 ] || fail "consolidate read: $out"
ok "report consolidate: 4 log rows"

total() {  # total COLUMN: the column summed over the report's rows in $out
  json_get "sum(r[\"$1\"] for r in j)"
}
run 0 pmx --user report verdicts --json
[ "$(total messages)" -eq 4 ] || fail "messages: $out"
[ "$(total recipients)" -eq 5 ] || fail "recipients: $out"
[ "$(total accepted)" -eq 3 ] || fail "accepted: $out"
[ "$(total rejected)" -eq 1 ] || fail "rejected: $out"
[ "$(total quarantined)" -eq 1 ] || fail "quarantined: $out"
run 0 pmx --user report verdicts --by day --json
[ "$(total messages)" -eq 4 ] || fail "daily messages: $out"
ok "report verdicts (hourly and daily): 4 messages, 3 accepted, 1 rejected, 1 quarantined"

run 0 pmx --user report top-senders --csv
[ "$(head -1 <<<"$out" | tr -d '\r')" = "sender,count" ] || fail "csv header: $out"
grep -q "^alice@example.test,3" <<<"$(tr -d '\r' <<<"$out")" || fail "alice should have 3 (case folded): $out"
grep -q "^spammer@bad.test,1" <<<"$(tr -d '\r' <<<"$out")" || fail "spammer: $out"
run 0 pmx --user report top-recipients --json
[ "$(json_get '[r["count"] for r in j if r["recipient"] == "bob@example.test"][0]')" -eq 3 ] || fail "bob: $out"
run 0 pmx --user report quarantine-size --json
[ "$(total stored)" -eq 1 ] || fail "quarantine stored: $out"
ok "top-senders --csv, top-recipients, quarantine-size show the right numbers"

# Idempotent: a second run changes nothing; a new message is added by the next run.
run 0 pmx --user report consolidate
run 0 pmx --user report verdicts --json
[ "$(total messages)" -eq 4 ] || fail "after a second consolidate: $out"
out=$(send alice@example.test bob@example.test) || true
pfx_wait_queue_empty "$pfx" 20
run 0 pmx --user report consolidate
run 0 pmx --user report verdicts --json
[ "$(total messages)" -eq 5 ] || fail "new message not counted: $out"
ok "consolidate again: nothing counted twice, the new message added"

run 2 pmx --user report nope
run 2 pmx --user report verdicts --from yesterday-ish
run 0 pmx --user report list --json
[ "$(json_get 'len(j)')" -ge 10 ] || fail "report list: $out"
ok "report list; unknown report and bad time are usage errors"

echo "all $pass checks passed"
