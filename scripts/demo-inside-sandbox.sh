#!/bin/bash
# Runs inside the sandbox (see run-gateway.sh): the gateway's life, shown step by step,
# with a private Postfix on 127.0.0.1:2525 and sample mail sent through it.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/integration/postfix.sh"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

mkdir -p /usr/local/etc/pmx
# A one-signature ClamAV database (EICAR's MD5), outside /tmp: pmx-avd runs with PrivateTmp=.
avdb=/usr/local/share/pmx-demo-clamav
mkdir -p $avdb
printf '44d88612fea8a8f36de82e1278abb02f:68:Demo.EICAR\n' > $avdb/demo.hdb
cat > /usr/local/etc/pmx/pmx.toml <<TOML
[milter]
socket = "inet:17357@127.0.0.1"

[av]
enabled = true
database_dir = "$avdb"

# pmx-queued delivers released mail (and digests, notifications) back through this Postfix;
# under a user manager its spool lives in the state directory.
[queue]
relay = "127.0.0.1:2525"
spool_dir = "spool"
TOML
cp "$src/share/demo/policy.toml" /usr/local/etc/pmx/policy.toml

# The web interfaces (pmx-httpd: Manager on 8443, end users on 8444). The Manager signs admins
# in with system accounts (PAM): web.sh makes one inside the sandbox's own mount namespace.
fail() { echo "demo: $*" >&2; exit 1; }
WEB_ADMIN_PORT=8443 WEB_USER_PORT=8444 WEB_DIR=$(mktemp -d /tmp/pmx-demo-web-XXXXXX)
source "$src/tests/integration/web.sh"
web_admin_account pmxadmin "demo-admin-password"

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
eicar='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
printf '%s' "$eicar" > "$work/eicar.txt"
send "5. a virus (the EICAR test file, base64 attachment): quarantined by pmx-avd's verdict" \
  --from dave@partner.test --to bob@example.test --header "Subject: the report" \
  --attach-type text/plain --attach-name report.txt --attach @"$work/eicar.txt"
gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
send "6. spam by its score (the GTUBE test string): quarantined" \
  --from promo@deals.test --to bob@example.test --header "Subject: Best offer" --body "$gtube"
pfx_wait_queue_empty "$work/postfix" 20 || true

printf 'From: promo@deals.test\nTo: bob@example.test\nSubject: FREE OFFER\n\n%s\n' "$gtube" > "$work/spam.eml"
step pmx --user spam check "$work/spam.eml"

step pmx --user log
step pmx --user quarantine list

printf '\n\033[1m# 7. The admin releases the block-listed message: pmx-queued re-injects it, signed, and\n#    pmx-milter lets it pass instead of holding it again.\033[0m\n'
qid=$(pmx --user quarantine list --sender mallory@spam.test --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
step pmx --user quarantine release "$qid"
for _ in $(seq 1 50); do grep -qs '^Subject: You won' "$work/postfix/sink"/* && break; sleep 0.2; done
pfx_wait_queue_empty "$work/postfix" 20 || true
step pmx --user queue list --all
step pmx --user log --limit 1
step pmx --user quarantine audit

printf '\n\033[1m# 8. The web interfaces share one JSON RPC API. bob gets a password and, signed in on the\n#    end-user port, sees only his own held mail; the admin, signed in with a system account\n#    (PAM) on the Manager port, gets the dashboard.\033[0m\n'
step pmx --user web user passwd bob@example.test --password-stdin <<< "demo-bob-password"
web_login user bob@example.test "demo-bob-password" >/dev/null || fail "bob could not sign in: $out"
printf '\n\033[1m$ POST https://127.0.0.1:8444/rpc quarantine.search (as bob@example.test)\033[0m\n'
web_rpc user quarantine.search '{"state":"any"}' | python3 -c '
import json, sys
for m in json.load(sys.stdin)["result"]["messages"]:
    print("  #%-3s %-22s %-16s %-9s %s" % (m["id"], m["sender"], m["subject"],
          "held" if m["held"] else "released", m["reason"]))'
web_login admin pmxadmin "demo-admin-password" >/dev/null || fail "the admin could not sign in: $out"
printf '\n\033[1m$ POST https://127.0.0.1:8443/rpc dashboard.summary (as pmxadmin)\033[0m\n'
web_rpc admin dashboard.summary | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
print(json.dumps({k: v for k, v in r.items() if k != "services"}, indent=1)[:1500])'
printf '\n\033[1m# What the relay received (subjects):\033[0m\n'
grep -h '^Subject:' "$work/postfix/sink"/* 2>/dev/null || true
step pmx --user stop
