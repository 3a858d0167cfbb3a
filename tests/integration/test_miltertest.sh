#!/bin/bash
# pmx-milter driven over the milter protocol by miltertest (no MTA): replies, header edits,
# recipient removal and discards, exactly as the policy says.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
confdir=/usr/local/etc/pmx
mkdir -p $confdir
printf '[milter]\nsocket = "inet:17358@127.0.0.1"\n' > $confdir/pmx.toml
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "bad sender"
when = { sender = "spammer@bad.test" }
then = ["reject:550 5.7.1 No mail from {sender}"]

[[rule]]
name = "hold for carol"
when = { recipient = "carol@example.test" }
then = ["quarantine:held for carol"]

[[rule]]
name = "tag for dave"
when = { recipient = "dave@example.test" }
then = ["tag_subject:[TAGGED]", "add_header:X-PMX-Test: tagged"]
TOML
run 0 pmx --user start milter
run 0 miltertest -D sock=inet:17358@127.0.0.1 -s "$here/miltertest/verdicts.lua"
printf '%s\n' "$out"
lacks "not ok"
ok "miltertest: reject, tag, per-recipient removal and discard"

run 0 pmx --user quarantine list --recipient carol@example.test --json
[ "$(json_get 'len(j)')" = 2 ] || fail "expected two quarantined messages for carol"
ok "both of carol's messages are in quarantine"

echo "all $pass checks passed"
