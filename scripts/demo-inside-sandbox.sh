#!/bin/bash
# Runs inside the sandbox (see run-gateway.sh): the gateway's life, shown step by step,
# with a private Postfix on 127.0.0.1:2525 and sample mail sent through it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/integration/postfix.sh"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

mkdir -p /usr/local/etc/pmx
printf '[milter]\nsocket = "inet:17357@127.0.0.1"\n' > /usr/local/etc/pmx/pmx.toml
cp "$src/share/demo/policy.toml" /usr/local/etc/pmx/policy.toml

step pmx --user enable
step pmx --user start
step pmx --user status
step pmx --user policy check

work=$(mktemp -d /tmp/pmx-demo-XXXXXX); chmod 0755 "$work"
pfx_start "$work/postfix" 2525 2526 >/dev/null
trap 'pfx_stop "$work/postfix"' EXIT
step pmx --user mta postfix --apply -c "$work/postfix/etc"
script -qec "postfix -c $work/postfix/etc reload" /dev/null >/dev/null; sleep 1
step pmx --user list add block mallory@spam.test --comment "demo"

send() {  # send DESCRIPTION swaks-args...
  local what=$1; shift
  printf '\n\033[1m# %s\033[0m\n' "$what"
  # The answer to the end of DATA: what pmx decided, as the sending server sees it.
  swaks --server 127.0.0.1 --port 2525 "$@" 2>&1 | grep -E '^<(-|\*\*) +[245][0-9][0-9] [0-9]\.' | grep -v ' 221 ' | tail -1 || true
}
send "1. an ordinary message: delivered, stamped" \
  --from alice@partner.test --to bob@example.test --header "Subject: Lunch on Friday?" --body "See you at noon."
send "2. from a block-listed sender: quarantined" \
  --from mallory@spam.test --to bob@example.test --header "Subject: You won" --body "Claim now."
send "3. an invoice lure: delivered with a tagged subject" \
  --from billing@lure.test --to bob@example.test --header "Subject: URGENT unpaid invoice" --body "Pay today."
send "4. an executable attachment: rejected" \
  --from carol@partner.test --to bob@example.test --header "Subject: tool" --attach-type application/octet-stream \
  --attach-name setup.exe --attach @/bin/true
pfx_wait_queue_empty "$work/postfix" 20 || true

step pmx --user log
step pmx --user quarantine list
printf '\n\033[1m# What the relay received (subjects):\033[0m\n'
grep -h '^Subject:' "$work/postfix/sink"/* 2>/dev/null || true
step pmx --user stop
