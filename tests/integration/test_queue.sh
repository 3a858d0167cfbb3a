#!/bin/bash
# The Queue Runner under the sandbox's systemd manager, delivering to a real Postfix and to
# smtp-sinks that answer 4xx or 5xx: exactly-once delivery, retries with the configured backoff,
# failed on 5xx, per-recipient results, pmx queue list|show|flush|retry|delete, and a kill -9
# in the middle of a 200-message batch that loses nothing.
# Ports (this test only): Postfix 2575, its sink 2577, a 4xx sink 2578, a 5xx sink 2579.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-queue-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
pids=()
cleanup() {
  pfx_stop "$pfx"
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

pfx_start "$pfx" 2575 2577 || fail "private postfix did not start"
smtp-sink -u postfix -r RCPT -c 127.0.0.1:2578 64 >/dev/null 2>&1 & pids+=($!)
smtp-sink -u postfix -f RCPT -c 127.0.0.1:2579 64 >/dev/null 2>&1 & pids+=($!)

# Short backoff for the test: 2 s, doubling, at most 4 s; 4 attempts; a scan every second.
cat > $confdir/pmx.toml <<TOML
[queue]
relay = "127.0.0.1:2575"
max_parallel = 4
retry_min_seconds = 2
retry_max_seconds = 4
max_attempts = 4
scan_interval_seconds = 1
helo_name = "queue-test.gw.test"
TOML

# The keyring signs the X-PMX-Reinjected stamp; made here by the CLI, as an admin's first
# command would (pmx-queued only reads it then).
statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
mkdir -p "$statedir"
run 0 pmx --user secret list
run 0 pmx --user start queued
ok "pmx-queued started"

run 0 pmx --user status --json queued
[ "$(json_get 'j[0]["active_state"]')" = active ] || fail "pmx-queued not active"
contains "spool"
ok "status shows the spool"

spool=$statedir/spool
[ -d "$spool/incoming" ] || fail "no spool at $spool"
ok "spool under the state directory of the user manager ($spool)"

msg() {  # msg MARKER [HEADERS...]: a small message file, path on stdout
  local f=$work/$1.eml
  { printf 'From: pmx <pmx@gw.test>\nTo: someone@example.test\nSubject: queue test %s\nX-Marker: %s\n' "$1" "$1"
    shift; for h in "$@"; do printf '%s\n' "$h"; done
    printf '\nbody of %s\n' "$(basename "$f" .eml)"; } > "$f"
  echo "$f"
}
submit() {  # submit MARKER TO... : queues a message, sets $id
  local marker=$1; shift
  local args=() t
  for t in "$@"; do args+=(--to "$t"); done
  run 0 pmx --user queue submit --from sender@gw.test "${args[@]}" --kind notification --reference "test $marker" "$(msg "$marker")"
  id=$out
}
sink_count() { grep -rlF -- "X-Marker: $1" "$pfx/sink" 2>/dev/null | wc -l; }
wait_sink() {  # wait_sink MARKER COUNT [SECONDS]
  local i
  for i in $(seq $(( ${3:-20} * 10 ))); do
    [ "$(sink_count "$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
state_of() { pmx --user queue show --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
wait_state() {  # wait_state ID STATE [SECONDS]
  local i
  for i in $(seq $(( ${3:-20} * 10 ))); do
    [ "$(state_of "$1" 2>/dev/null)" = "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
relay() {  # switch the relay (pmx config set reloads pmx-queued)
  run 0 pmx --user config set queue.relay "$1"
}

# --- delivery, exactly once -------------------------------------------------------------
submit m-one a@example.test
one=$id
submit m-two b@example.test c@example.test
two=$id
submit m-three d@example.test
wait_sink m-one 1 && wait_sink m-two 1 && wait_sink m-three 1 || fail "submitted messages did not reach the sink"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"
wait_state "$one" sent 10 || fail "m-one not in sent"
sleep 1
for m in m-one m-two m-three; do
  [ "$(sink_count $m)" = 1 ] || fail "$m delivered $(sink_count $m) times"
done
ok "three submitted messages reach the sink through Postfix exactly once"

f=$(grep -rlF -- "X-Marker: m-one" "$pfx/sink")
grep -q '^X-PMX-Reinjected: ' "$f" || fail "no X-PMX-Reinjected stamp on the delivered message"
grep -q '^Message-ID: <.*pmx-queued@queue-test.gw.test>' "$f" || fail "no Message-ID added"
ok "delivered mail carries the re-injection stamp and a Message-ID"

run 0 pmx --user queue show "$two"
contains "State:        sent"
contains "delivered b@example.test: 250"
contains "delivered c@example.test: 250"
run 0 pmx --user queue list --state sent --json
[ "$(json_get 'len(j)')" = 3 ] || fail "sent list has not 3 entries"
run 0 pmx --user queue list
contains "The queue is empty"
ok "show and list: sent entries with each recipient's reply; the queue itself is empty"

# --- 4xx: retries with backoff, then failed -------------------------------------------------
relay 127.0.0.1:2578
submit m-soft x@example.test
soft=$id
declare -A waits=()
for i in $(seq 300); do
  out=$(pmx --user queue show --json "$soft")
  read -r st att wait <<<"$(json_get '"%s %d %d" % (j["state"], j["attempts"], (j["next_attempt_us"] - j["last_attempt_us"]) // 100000)')"
  [ "$st" = deferred ] && waits[$att]=$wait
  [ "$st" = failed ] && break
  sleep 0.1
done
[ "$st" = failed ] || fail "4xx entry did not end in failed after max_attempts (state $st, attempts $att)"
[ "${waits[1]:-}" = 20 ] || fail "wait after attempt 1 is ${waits[1]:-?} tenths, expected 20 (retry_min_seconds)"
[ "${waits[2]:-}" = 40 ] || fail "wait after attempt 2 is ${waits[2]:-?} tenths, expected 40"
[ "${waits[3]:-}" = 40 ] || fail "wait after attempt 3 is ${waits[3]:-?} tenths, expected 40 (retry_max_seconds)"
ok "4xx: deferred with waits 2 s, 4 s, 4 s (doubling, capped), as pmx queue show --json reports"
run 0 pmx --user queue show "$soft"
contains "Attempts:     4"
contains "gave up after 4 attempts"
contains "450"
ok "after queue.max_attempts it is failed, with the relay's 4xx in the reason"

# --- pmx queue list shows a deferred entry with its next attempt ----------------------------
run 0 pmx --user config set queue.retry_min_seconds 3600
run 0 pmx --user config set queue.retry_max_seconds 3600
submit m-flush y@example.test
flushid=$id
wait_state "$flushid" deferred 10 || fail "m-flush not deferred"
run 0 pmx --user queue list
contains "$flushid"
contains "deferred"
contains "in 59min"
contains "450"
ok "pmx queue list: the deferred entry, its next attempt in an hour and the 4xx"

# --- flush ------------------------------------------------------------------------------------
relay 127.0.0.1:2575
run 0 pmx --user queue flush
contains "Flushed: 1 deferred"
wait_sink m-flush 1 10 || fail "flush did not deliver the deferred message"
wait_state "$flushid" sent 10 || fail "flushed entry not sent"
ok "pmx queue flush (D-Bus Flush()) delivers a deferred entry at once"

# --- 5xx: failed at once, never retried; retry puts it back --------------------------------------
relay 127.0.0.1:2579
submit m-hard z@example.test
hard=$id
wait_state "$hard" failed 10 || fail "5xx entry not failed"
sleep 4.5
run 0 pmx --user queue show --json "$hard"
[ "$(json_get 'j["attempts"]')" = 1 ] || fail "a 5xx was retried"
[ "$(json_get 'j["recipients"][0]["status"]')" = failed ] || fail "recipient not failed"
[ "$(json_get 'j["last_error"][:1]')" = 5 ] || fail "last error is not the 5xx"
ok "5xx: failed after one attempt and never retried"

relay 127.0.0.1:2575
run 0 pmx --user queue retry "$hard"
contains "queued again"
wait_sink m-hard 1 10 || fail "retried message not delivered"
wait_state "$hard" sent 10 || fail "retried entry not sent"
[ "$(sink_count m-hard)" = 1 ] || fail "m-hard delivered more than once"
ok "pmx queue retry puts a failed entry back; it is delivered once"

# --- delete -----------------------------------------------------------------------------------
relay 127.0.0.1:2578
submit m-delete w@example.test
del=$id
wait_state "$del" deferred 10 || fail "m-delete not deferred"
run 0 pmx --user queue delete "$del"
contains "deleted"
run 1 pmx --user queue show "$del"
contains "No queue entry"
relay 127.0.0.1:2575
run 0 pmx --user queue flush
sleep 2
[ "$(sink_count m-delete)" = 0 ] || fail "a deleted entry was delivered"
ok "pmx queue delete removes a deferred entry; it is never delivered"

run 2 pmx --user queue show not-an-id
contains "is not a queue entry id"
run 1 pmx --user queue delete 00000000000000-000000
contains "no such entry"
run 2 pmx --user queue retry
ok "clear errors: bad id (exit 2), unknown entry (exit 1), nothing to retry (exit 2)"

# --- per-recipient results through Postfix ------------------------------------------------------------
postconf -c "$pfx/etc" -e \
  'smtpd_recipient_restrictions = check_recipient_access inline:{ {soft@example.test=450 4.2.0 come back later}, {hard@example.test=550 5.1.1 no such user} }, permit_mynetworks, reject'
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null
sleep 1
run 0 pmx --user config set queue.retry_min_seconds 1
run 0 pmx --user config set queue.retry_max_seconds 1
run 0 pmx --user config set queue.max_attempts 100
submit m-split ok@example.test soft@example.test hard@example.test
split=$id
wait_sink m-split 1 10 || fail "the accepted recipient did not get m-split"
wait_state "$split" deferred 10 || fail "m-split not deferred"
run 0 pmx --user queue show --json "$split"
[ "$(json_get '",".join(r["status"] for r in j["recipients"])')" = "delivered,pending,failed" ] || fail "per-recipient states: $out"
ok "partial delivery: one recipient delivered, one deferred (450), one failed (550)"

postconf -c "$pfx/etc" -e \
  'smtpd_recipient_restrictions = check_recipient_access inline:{ {hard@example.test=550 5.1.1 no such user} }, permit_mynetworks, reject'
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null
wait_state "$split" failed 20 || fail "m-split did not finish"
pfx_wait_queue_empty "$pfx" 20
run 0 pmx --user queue show --json "$split"
[ "$(json_get '",".join(r["status"] for r in j["recipients"])')" = "delivered,delivered,failed" ] || fail "per-recipient states: $out"
[ "$(sink_count m-split)" = 2 ] || fail "m-split reached the sink $(sink_count m-split) times, expected 2 (one per attempt with an accepted recipient)"
ok "the deferred recipient is delivered later, alone; the delivered one is not sent twice"
postconf -c "$pfx/etc" -X smtpd_recipient_restrictions
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null

# --- crash: kill -9 in the middle of a 200-message batch -------------------------------------------------
run 0 pmx --user config set queue.max_parallel 2
run 0 pmx --user stop queued
for n in $(seq 200); do
  pmx --user queue submit --from sender@gw.test --to "r$n@example.test" --kind report --reference "crash $n" \
      "$(msg "crash-$n")" >/dev/null || fail "submit $n failed"
done
[ "$(ls "$spool/incoming" | wc -l)" = 200 ] || fail "not 200 entries in incoming"
base=$(ls "$spool/sent" | wc -l)
run 0 pmx --user start queued
for i in $(seq 400); do
  [ "$(ls "$spool/sent" | wc -l)" -ge $((base + 15)) ] && break
  sleep 0.02
done
pid=$(systemctl --user show -P MainPID pmx-queued.service)
kill -9 "$pid"
at_kill=$(grep -rlF 'X-Marker: crash-' "$pfx/sink" | wc -l)
left=$(find "$spool/incoming" "$spool/active" "$spool/deferred" -type f | wc -l)
[ "$left" -gt 0 ] || fail "the batch was done before the kill ($at_kill delivered): nothing tested"
ok "pmx-queued killed with SIGKILL mid-batch: $at_kill delivered, $left entries still queued"

# Restart=on-failure brings it back; it takes up what was in delivery.
for i in $(seq 100); do
  npid=$(systemctl --user show -P MainPID pmx-queued.service)
  [ "$npid" != 0 ] && [ "$npid" != "$pid" ] && [ "$(systemctl --user is-active pmx-queued.service)" = active ] && break
  sleep 0.1
done
[ "$npid" != "$pid" ] && [ "$npid" != 0 ] || fail "pmx-queued was not restarted by systemd"
for i in $(seq 600); do
  [ -z "$(find "$spool/incoming" "$spool/active" "$spool/deferred" -type f | head -1)" ] && break
  sleep 0.1
done
[ -z "$(find "$spool/incoming" "$spool/active" "$spool/deferred" -type f | head -1)" ] || fail "spool not drained after restart"
pfx_wait_queue_empty "$pfx" 30 || fail "postfix queue did not drain"
sleep 1
unique=$(grep -rhF 'X-Marker: crash-' "$pfx/sink" | sort -u | wc -l)
total=$(grep -rlF 'X-Marker: crash-' "$pfx/sink" | wc -l)
[ "$unique" = 200 ] || fail "only $unique of 200 messages delivered after the crash"
ok "after restart all 200 are delivered, none lost ($total deliveries for 200 messages: $((total - 200)) repeated)"

run 0 pmx --user queue list --state sent --json
[ "$(json_get 'len([e for e in j if e["kind"] == "report"])')" = 200 ] || fail "not 200 report entries in sent"
run 0 pmx --user status --json queued
[ "$(json_get 'j[0]["daemon"]["counters"].get("sent", 0)')" -ge 1 ] || fail "no sent counter"
ok "all 200 entries in sent; counters reported on the bus"

# --- sent entries are kept queue.sent_keep_seconds, then removed -------------------------------------------
run 0 pmx --user config set queue.sent_keep_seconds 2
for i in $(seq 100); do
  [ "$(ls "$spool/sent" | wc -l)" = 0 ] && break
  sleep 0.1
done
[ "$(ls "$spool/sent" | wc -l)" = 0 ] || fail "sent entries older than queue.sent_keep_seconds were not removed"
ok "sent entries older than queue.sent_keep_seconds are removed"

run 0 pmx --user stop queued
echo "# $pass checks passed"
