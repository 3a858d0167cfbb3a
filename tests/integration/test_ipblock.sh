#!/bin/bash
# The IP Blocker through a real Postfix (check_policy_service, written by `pmx mta postfix`)
# and pmx-ipblockd under the sandbox's systemd manager: a listed client is rejected before
# DATA with the configured text, an excepted one passes, a client that sends spam past the
# threshold is blocked dynamically and unblocked after its TTL (which doubles next time),
# and `pmx ipblock add/remove` reach the daemon within a second.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"
fixtures="$(cd "$(dirname "$0")/ipblock" && pwd)"

work=$(mktemp -d /tmp/pmx-ipb-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir/ipblock
cp "$fixtures/block.txt" "$fixtures/except.txt" $confdir/ipblock/
cp "$fixtures/policy.toml" $confdir/policy.toml
# 127.0.0.1 stays internal (never blocked); the other loopback addresses play outside clients.
cat > $confdir/pmx.toml <<TOML
[general]
internal_networks = ["127.0.0.1/32"]

[milter]
socket = "inet:17363@127.0.0.1"

[ipblock]
tcp_listen = "127.0.0.1:17362"
block_files = ["ipblock/block.txt"]
exception_files = ["ipblock/except.txt"]
reject_text = "5.7.1 Go away {ip}: {reason} {url}"
lookup_url = "https://lookup.test/?ip={ip}"
dynamic_threshold = 3
dynamic_window_seconds = 60
dynamic_ttl_seconds = 8
TOML

run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started with pmx-ipblockd on TCP 127.0.0.1:17362"

run 0 pmx --user ipblock test 127.0.0.5
contains "127.0.0.5: blocked: 127.0.0.5 is listed in $confdir/ipblock/block.txt:2"
contains "REJECT 5.7.1 Go away 127.0.0.5: listed in block.txt https://lookup.test/?ip=127.0.0.5"
run 0 pmx --user ipblock test 127.0.0.6 --json
[ "$(json_get 'j["why"]')" = exception ] || fail "127.0.0.6 is not excepted: $out"
run 0 pmx --user ipblock test 127.0.0.1
contains "internal network"
run 0 pmx --user ipblock test 2001:db8::7
contains "blocked"
run 2 pmx --user ipblock test 300.1.1.1
ok "pmx ipblock test says whether and why (list file:line, exception, internal)"

pfx_start "$pfx" 2545 2546 || fail "private postfix did not start"
trap 'pfx_stop "$pfx"' EXIT
run 0 pmx mta postfix --apply -c "$pfx/etc"
run 0 postconf -c "$pfx/etc" -h smtpd_client_restrictions
[ "$out" = "check_policy_service inet:127.0.0.1:17362" ] || fail "pmx mta postfix wrote smtpd_client_restrictions = $out"
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null
sleep 1
ok "pmx mta postfix --apply configured check_policy_service"

send() {  # send FROM_IP SUBJECT: one message from client address FROM_IP
  swaks --server 127.0.0.1 --port 2545 --local-interface "$1" --from "alice@example.test" \
        --to "bob@example.test" --header "Subject: $2" --body "ipblock test" 2>&1
}

out=$(send 127.0.0.5 "hello") || true
# Postfix puts "<client>: Client host rejected:" before the policy's text.
contains "554 5.7.1 <unknown[127.0.0.5]>: Client host rejected: Go away 127.0.0.5: listed in block.txt https://lookup.test/?ip=127.0.0.5"
lacks "354"
ok "a client on the block list is rejected at RCPT (before DATA) with the configured text"

out=$(send 127.0.0.6 "hello") || true
contains "250 2.0.0 Ok: queued"
ok "an excepted client passes"

out=$(send 127.0.0.7 "hello") || true
contains "250 2.0.0 Ok: queued"
for i in 1 2 3; do
  out=$(send 127.0.0.7 "SPAM-TEST $i") || true
  contains "250 2.0.0 Ok: queued"
done
# Ratio: 3 spam of 4 messages is more than 50 %. The daemon looks every second.
blocked=0
for i in $(seq 30); do
  out=$(pmx --user ipblock list --json 2>&1) || true
  case "$out" in *'"127.0.0.7"'*) blocked=1; break;; esac
  sleep 0.2
done
[ $blocked = 1 ] || fail "127.0.0.7 was not blocked dynamically: $out"
[ "$(json_get '[r for r in j if r["network"]=="127.0.0.7"][0]["source"]')" = dynamic ] || fail "not a dynamic block: $out"
# The daemon wrote the block itself, so it answers with it at once.
out=$(send 127.0.0.7 "hello again") || true
contains "554 5.7.1 <unknown[127.0.0.7]>: Client host rejected: Go away 127.0.0.7: sent 3 spam of 4 messages in 1min"
ok "a client that sent spam past the threshold is blocked dynamically (before DATA)"

journalctl --no-pager -q | grep -q "Blocked 127.0.0.7 for 8s" || fail "no journal line for the block"
ok "the block is in the journal"

for i in $(seq 60); do
  out=$(pmx --user ipblock list --json 2>&1) || true
  case "$out" in *'"127.0.0.7"'*) sleep 0.3;; *) break;; esac
done
case "$out" in *'"127.0.0.7"'*) fail "the block of 127.0.0.7 did not expire: $out";; esac
sleep 1.2  # the daemon drops it within a second of its expiry
out=$(send 127.0.0.7 "hello after ttl") || true
contains "250 2.0.0 Ok: queued"
ok "the dynamic block expires after its TTL"

for i in 1 2 3; do
  out=$(send 127.0.0.7 "SPAM-TEST again $i") || true
done
for i in $(seq 30); do
  out=$(pmx --user ipblock list --json 2>&1) || true
  case "$out" in *'"127.0.0.7"'*) break;; esac
  sleep 0.2
done
[ "$(json_get '[r for r in j if r["network"]=="127.0.0.7"][0]["offenses"]')" = 2 ] || fail "no repeat offense: $out"
ttl=$(json_get '[(r["expires_us"]-r["added_us"])//1000000 for r in j if r["network"]=="127.0.0.7"][0]')
[ "$ttl" = 16 ] || fail "repeat offender's TTL is $ttl s, expected 16"
ok "a repeat offender's TTL doubles"

run 0 pmx --user ipblock remove 127.0.0.7
run 0 pmx --user ipblock add 127.0.0.8 --ttl 1h --reason "manual test"
contains "Blocked 127.0.0.8"
sleep 1.3
out=$(send 127.0.0.8 "hello") || true
contains "Client host rejected: Go away 127.0.0.8: manual test"
out=$(send 127.0.0.7 "hello") || true
contains "250 2.0.0 Ok: queued"
run 0 pmx --user ipblock remove 127.0.0.8
sleep 1.3
out=$(send 127.0.0.8 "hello") || true
contains "250 2.0.0 Ok: queued"
ok "pmx ipblock add/remove reach the daemon within a second"

run 0 pmx --user ipblock stats --json
[ "$(json_get 'j["daemon"]["rejects"]')" -ge 3 ] || fail "daemon counted too few rejects: $out"
[ "$(json_get 'sum(e["count"] for e in j["events_24h"] if e["action"]=="block")')" -ge 3 ] || fail "block log: $out"
ok "pmx ipblock stats shows the block log and the daemon's counters"

# Reload swaps the lists without a restart.
echo "127.0.0.9" >> $confdir/ipblock/block.txt
pid_before=$(systemctl --user show -p MainPID --value pmx-ipblockd.service)
run 0 pmx --user reload ipblockd
out=$(send 127.0.0.9 "hello") || true
contains "Client host rejected: Go away 127.0.0.9: listed in block.txt"
[ "$(systemctl --user show -p MainPID --value pmx-ipblockd.service)" = "$pid_before" ] || fail "ipblockd restarted"
ok "a reload swaps in the edited list without a restart"

# Blocks survive a restart of the daemon.
run 0 pmx --user ipblock add 2001:db8:1::/48 --reason "v6 test"
run 0 pmx --user restart ipblockd
run 0 pmx --user ipblock list --json
contains "2001:db8:1::/48"
sleep 1.2  # the daemon reads the database's blocks right after its start
run 0 pmx --user status --json ipblockd
contains "1 blocks in the database"
ok "blocks live in the database and survive a restart"

echo "all $pass checks passed"
