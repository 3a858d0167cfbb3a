#!/bin/bash
# pmx-milter driven over the milter protocol by miltertest (no MTA): replies, header edits,
# recipient removal and discards, exactly as the policy says.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
confdir=/usr/local/etc/pmx
mkdir -p $confdir
printf '192.0.2.66  # a listed client\n' > $confdir/ipblock-test.txt
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17358@127.0.0.1"
ipblock_at_connect = true

[ipblock]
block_files = ["$confdir/ipblock-test.txt"]
TOML
cp "$here/fixtures/policy.toml" $confdir/policy.toml
run 0 pmx --user start milter ipblockd
run 0 miltertest -D sock=inet:17358@127.0.0.1 -s "$here/miltertest/connect.lua"
printf '%s\n' "$out"
lacks "not ok"
ok "milter.ipblock_at_connect: pmx-ipblockd's block list refuses a client at connect (sendmail's path)"
run 0 miltertest -D sock=inet:17358@127.0.0.1 -s "$here/miltertest/verdicts.lua"
printf '%s\n' "$out"
lacks "not ok"
ok "miltertest: reject, tag, per-recipient removal and discard"

run 0 pmx --user quarantine list --recipient carol@example.test --json
[ "$(json_get 'len(j)')" = 2 ] || fail "expected two quarantined messages for carol"
ok "both of carol's messages are in quarantine"

# pmx policy test: the vendor policy, a per-user allow entry in the database, a spam score.
run 0 pmx --user list add allow alice@example.test --user bob@example.test
printf 'From: Alice <alice@example.test>\nTo: bob@example.test, carol@example.test\nSubject: offer\n\nhi\n' > /tmp/pt.eml
run 0 pmx --user policy test /tmp/pt.eml --ip 192.0.2.7 --spam-score 12 --policy /usr/local/share/pmx/policy.toml --json
[ "$(json_get '[r["outcome"] for r in j["recipients"] if r["recipient"] == "bob@example.test"][0]')" = accept ] \
  || fail "bob's own allow list did not pass the message: $out"
[ "$(json_get '[r["outcome"] for r in j["recipients"] if r["recipient"] == "carol@example.test"][0]')" = quarantine ] \
  || fail "bob's allow list released carol's copy too: $out"
ok "pmx policy test: bob's allow entry passes the message for bob only; carol's copy is quarantined as spam"

printf '[[rule]]\nname = "x"\nwhen = { sendr = "a@b" }\nthen = ["accept"]\n' > /tmp/bad-policy.toml
run 1 pmx policy check /tmp/bad-policy.toml
contains "/tmp/bad-policy.toml:3:"
contains 'did you mean "sender"'
ok "pmx policy check names file, line and the misspelt condition"

echo "all $pass checks passed"
