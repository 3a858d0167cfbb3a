#!/bin/bash
# Quarantine actions through a real Postfix, pmx-milter and pmx-queued under the sandbox's
# systemd manager: a message the policy quarantines is found by full-text search, forwarded,
# released (it reaches the recipient through the sink exactly once and is not quarantined
# again), exported to mbox, deleted; every action is in the audit log.
# Ports (this test only): Postfix 2585, milter 17366, sink 2587.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-qa-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17366@127.0.0.1"

[queue]
relay = "127.0.0.1:2585"
spool_dir = "spool"
scan_interval_seconds = 1
retry_min_seconds = 1
retry_max_seconds = 2
TOML
cp "$(dirname "$0")/fixtures/policy.toml" $confdir/policy.toml  # holds mail for carol@example.test

# The keyring signs the X-PMX-Reinjected stamp pmx-queued puts on released mail and pmx-milter
# checks: made by the CLI first, as an admin's first command would (the daemons only read it).
statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx  # StateDirectory= of a user manager
mkdir -p "$statedir"
run 0 pmx --user secret list
run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started (milter on 17366, queue relay 127.0.0.1:2585)"

trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2585 2587
ok "Postfix filters through pmx-milter and relays to the sink"

spool=$statedir/spool

word="zebrafinch$RANDOM"
sink_files() { grep -rlF -- "X-Marker: $1" "$pfx/sink" 2>/dev/null || true; }
sink_count() { sink_files "$1" | grep -c . || true; }
sink_to() {  # sink_to MARKER RCPT: copies of MARKER delivered to RCPT
  local f n=0
  for f in $(sink_files "$1"); do grep -q "X-Rcpt-Args: <$2>\|RCPT TO:<$2>" "$f" && n=$((n + 1)); done
  echo $n
}
wait_sink_to() {  # wait_sink_to MARKER RCPT [SECONDS]
  local i
  for i in $(seq $(( ${3:-30} * 10 ))); do
    [ "$(sink_to "$1" "$2")" -ge 1 ] && return 0
    sleep 0.1
  done
  return 1
}

out=$(swaks --server 127.0.0.1 --port 2585 --from alice@example.test --to carol@example.test \
            --header "Subject: pmx quarantine $word test" --header "X-Marker: m-held" \
            --body "From the quarantine test: this line starts with From" 2>&1) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "message stuck in the postfix queue"
[ "$(sink_count m-held)" = 0 ] || fail "the message held for carol was delivered"
ok "the policy quarantines carol's message; nothing reaches the sink"

run 0 pmx --user quarantine list --text "$word" --json
[ "$(json_get 'len(j)')" = 1 ] || fail "full-text search did not find exactly one message: $out"
id=$(json_get 'j[0]["id"]')
[ "$(json_get 'j[0]["held"]')" = True ] || fail "not held: $out"
run 0 pmx --user quarantine list --text "${word:0:8}*" --sender alice --held
contains "pmx quarantine $word test"
contains "held"
run 0 pmx --user quarantine list --text "$word" --released --json
[ "$(json_get 'len(j)')" = 0 ] || fail "--released lists a held message"
run 2 pmx --user quarantine list --text '"unclosed'
contains "--text: Invalid search text: the quote at position 1 is not closed"
ok "pmx quarantine list --text finds it (words, prefix, with other filters); bad search text is a usage error"

# forward: a copy to frank; the message stays held.
run 0 pmx --user quarantine forward "$id" --to frank@example.test --json
[ "$(json_get 'j[0]["queue_entry"]')" != "" ] || fail "no queue entry: $out"
wait_sink_to m-held frank@example.test 30 || { find "$spool" -type f >&2 || true; fail "the forwarded copy did not arrive"; }
[ "$(sink_to m-held carol@example.test)" = 0 ] || fail "forward delivered to carol"
run 0 pmx --user quarantine show "$id" --json
[ "$(json_get 'j["held"]')" = True ] || fail "forward changed the held state"
ok "forward sends a copy through pmx-queued; the message stays held"

# release: into the spool first, then to carol through Postfix, exactly once, not quarantined again.
run 0 pmx --user quarantine release "$id" --json
[ "$(json_get 'j[0]["released"]')" = "['carol@example.test']" ] || fail "release: $out"
entry=$(json_get 'j[0]["queue_entry"]')
[ -n "$(find "$spool" -type f -name "*$entry*" 2>/dev/null || true)" ] || [ "$(sink_to m-held carol@example.test)" -ge 1 ] ||
  fail "release left no spool entry $entry under $spool"
wait_sink_to m-held carol@example.test 30 || fail "the released message did not reach carol"
pfx_wait_queue_empty "$pfx" 20
sleep 2  # a second copy would come now
[ "$(sink_to m-held carol@example.test)" = 1 ] || fail "carol got the released message $(sink_to m-held carol@example.test) times"
f=
for g in $(sink_files m-held); do grep -q "X-Rcpt-Args: <carol@example.test>\|RCPT TO:<carol@example.test>" "$g" && f=$g; done
grep -q "^From the quarantine test" "$f" || fail "the body changed on the way"
run 0 pmx --user quarantine list --text "$word" --json
[ "$(json_get 'len(j)')" = 1 ] || fail "the released message was quarantined again: $out"
[ "$(json_get 'j[0]["held"]')" = False ] || fail "not marked released: $out"
[ "$(json_get 'j[0]["recipient_states"][0]["released_by"]')" = root ] || fail "released_by: $out"
ok "release: queued, delivered to carol exactly once through Postfix, not quarantined again"

run 0 pmx --user quarantine release "$id"
contains "was already released for carol@example.test: not sent again"
run 0 pmx --user quarantine list --released --text "$word"
contains "released"
run 1 pmx --user quarantine release "$id" --recipient mallory@example.test
contains "it was not held for mallory@example.test (held for carol@example.test)"
run 1 pmx --user quarantine release 999999
contains "No quarantined message with id 999999"
run 2 pmx --user quarantine release notanumber
ok "a second release sends nothing; wrong recipients and ids are clear errors"

# export: mboxrd.
run 0 pmx --user quarantine export "$id" --output "$work/one.mbox"
contains "Exported 1 message"
head -1 "$work/one.mbox" | grep -q "^From alice@example.test " || fail "no From_ line: $(head -1 "$work/one.mbox")"
grep -q "^>From the quarantine test" "$work/one.mbox" || fail "a body line starting with From is not quoted"
grep -q "X-Marker: m-held" "$work/one.mbox" || fail "the message is not in the mbox"
run 0 pmx --user quarantine export --text "$word" --output "$work/search.mbox" --json
[ "$(json_get 'j["messages"]')" = 1 ] || fail "export by search: $out"
run 2 pmx --user quarantine export --output "$work/x.mbox"
ok "export writes an mbox (From_ line, >From quoting), by id or by search"

# audit, then delete.
run 0 pmx --user quarantine audit --id "$id" --json
actions=$(json_get '",".join(e["action"] for e in reversed(j))')
[ "$actions" = "forward,release,export,export" ] || fail "audit log: $actions"
[ "$(json_get 'j[0]["actor"]')" = root ] || fail "actor: $out"
run 0 pmx --user quarantine delete "$id"
contains "Deleted $id"
run 0 pmx --user quarantine list --text "$word" --json
[ "$(json_get 'len(j)')" = 0 ] || fail "deleted message still listed"
run 1 pmx --user quarantine show "$id"
run 0 pmx --user quarantine audit --id "$id"
contains "delete"
ok "every action is in the audit log with who did it; delete removes the message"

# release --allow-sender: the sender goes on the recipient's own allow list.
out=$(swaks --server 127.0.0.1 --port 2585 --from dora@example.test --to carol@example.test \
            --header "Subject: pmx quarantine allow$word" --header "X-Marker: m-allow" --body "again" 2>&1) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20
run 0 pmx --user quarantine list --text "allow$word" --json
[ "$(json_get 'len(j)')" = 1 ] || fail "second message not quarantined: $out"
id2=$(json_get 'j[0]["id"]')
run 0 pmx --user quarantine release "$id2" --allow-sender
contains "sender allow-listed"
run 0 pmx --user list show --user carol@example.test --kind allow
contains "dora@example.test"
wait_sink_to m-allow carol@example.test 30 || fail "the second released message did not reach carol"
ok "release --allow-sender puts the sender on the recipient's own allow list"

run 0 pmx --user quarantine expire --older-than 1d --json
[ "$(json_get 'j["removed"]')" = 0 ] || fail "expire removed young messages: $out"
ok "expire keeps young messages"

echo "all $pass checks passed"
