#!/bin/bash
# Digests through a real Postfix, pmx-milter and pmx-queued under the sandbox's systemd manager:
# two messages held for carol are listed in one digest that reaches the sink; its release link
# releases one, her reply to the digest (through Postfix's pipe transport to digest-reply) the
# other; an opted-out user gets no digest; foreign senders and bounces release nothing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

work=$(mktemp -d /tmp/pmx-digest-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17367@127.0.0.1"

[queue]
spool_dir = "spool"
relay = "127.0.0.1:2595"

[digest]
from = "quarantine@gw.test"
reply_to = "release@gw.test"
link_base_url = "https://gw.test/quarantine/release?token="
TOML
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "hold for carol"
when = { recipient = "carol@example.test" }
then = ["quarantine:held for carol"]

[[rule]]
name = "hold for dave"
when = { recipient = "dave@example.test" }
then = ["quarantine:held for dave"]
TOML
# A user manager's StateDirectory=pmx is $XDG_CONFIG_HOME/pmx (as pmx --user knows).
state=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
spool=$state/spool

# The keyring exists before the daemons start (the first pmx command creates it).
mkdir -p "$state"
run 0 pmx --user secret list
run 0 pmx --user enable
run 0 pmx --user start
trap 'pfx_stop "$pfx"' EXIT
pfx_start_filtered "$pfx" 2595 2597
ok "gateway, Postfix (2595) and sink (2597) up"

send() {  # send FROM TO SUBJECT
  swaks --server 127.0.0.1 --port 2595 --from "$1" --to "$2" --header "Subject: $3" \
        --body "body of $3" 2>&1
}
sink_has() { grep -rlF -- "$1" "$pfx/sink" 2>/dev/null | head -1; }
wait_sink() {  # wait_sink PATTERN [SECONDS]: the sink got a message containing PATTERN
  local i
  for i in $(seq $((${2:-30} * 10))); do
    [ -n "$(sink_has "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

out=$(send alice@example.test carol@example.test "digest-one <b>bold</b> & co") || true
contains "250 2.0.0 Ok: queued"
out=$(send bob@example.test carol@example.test "digest-two") || true
contains "250 2.0.0 Ok: queued"
out=$(send alice@example.test dave@example.test "digest-dave") || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"
run 0 pmx --user quarantine list --recipient carol@example.test --json
[ "$(json_get 'len(j)')" = 2 ] || fail "carol should have two held messages: $out"
run 0 pmx --user quarantine list --recipient dave@example.test --json
[ "$(json_get 'len(j)')" = 1 ] || fail "dave should have one held message: $out"
ok "two messages held for carol, one for dave"

run 0 pmx --user quarantine digest-optout dave@example.test
contains "gets no more digests"
run 0 pmx --user quarantine digest-optout --json
[ "$(json_get '[e["address"] for e in j]')" = "['dave@example.test']" ] || fail "opt-out list: $out"
ok "dave opted out of digests"

run 0 pmx --user quarantine digest --dry-run --json
[ "$(json_get 'len(j)')" = 1 ] || fail "dry run should name one digest: $out"
[ "$(json_get 'j[0]["recipient"]')" = carol@example.test ] || fail "dry run not for carol: $out"
[ "$(json_get 'len(j[0]["listed"])')" = 2 ] || fail "dry run should list two: $out"
[ "$(json_get 'j[0]["queue_entry"]')" = "" ] || fail "dry run queued something: $out"
ok "digest --dry-run: one digest, for carol, listing two; nothing queued"

run 0 pmx --user quarantine digest --json
[ "$(json_get 'len(j)')" = 1 ] || fail "one digest expected: $out"
entry=$(json_get 'j[0]["queue_entry"]')
msgid=$(json_get 'j[0]["message_id"]')
[ -n "$entry" ] || fail "no queue entry: $out"
run 0 pmx --user quarantine digest
contains "No digests to send"
ok "digest queued one digest (entry $entry); a second run finds nothing new"

# The digest as spooled (in whichever state pmx-queued has it by now).
spool_file() {  # the entry's file, wherever pmx-queued moved it (grep may race a rename: retry)
  local i f
  for i in 1 2 3 4 5; do
    f=$(grep -rlx "id: $1" "$spool" 2>/dev/null | head -1 || true)
    [ -n "$f" ] && [ -f "$f" ] && { echo "$f"; return 0; }
    sleep 0.2
  done
}
f=$(spool_file "$entry")
[ -n "$f" ] || fail "queue entry $entry not in $spool: $(find "$spool" -type f | head)"
grep -qx "kind: digest" "$f" || fail "entry is not of kind digest: $(head -20 "$f")"
grep -q "^rcpt: .* carol@example.test$" "$f" || fail "digest not addressed to carol: $(head -20 "$f")"
digests=$(grep -rlx "kind: digest" "$spool" 2>/dev/null || true)
[ -n "$digests" ] && grep -l "^rcpt: .*dave@example.test" $digests 2>/dev/null && fail "opted-out dave got a digest"
cp "$f" "$work/digest.entry"  # pmx-queued may move it on while we read
python3 - "$work/digest.entry" "$work" <<'PY' || fail "digest content"
import email, email.policy, re, sys
raw = open(sys.argv[1], 'rb').read()
msg = email.message_from_bytes(raw.split(b"\n\n", 1)[1], policy=email.policy.default)  # spool header, then the message
assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
assert msg["To"] == "carol@example.test" and msg["Reply-To"] == "release@gw.test", (msg["To"], msg["Reply-To"])
text = msg.get_body(("plain",)).get_content().replace("\r\n", "\n")
html = msg.get_body(("html",)).get_content()
assert "digest-one <b>bold</b> & co" in text and "digest-two" in text, text
assert "digest-one &lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html, html
tokens = re.findall(r"token=([0-9a-f]{8}\.[0-9]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43})", text)
assert len(tokens) == 2, tokens
# the entry of each subject and its token, for the next steps
blocks = text.split("\n* ")[1:]
for b in blocks:
    t = re.search(r"token=(\S+)", b).group(1)
    name = "one" if "digest-one" in b else "two"
    open(f"{sys.argv[2]}/token-{name}", "w").write(t)
# carol's reply: the digest quoted, the entry of digest-one deleted (it is released by link)
quoted = "\n".join("> " + l for l in "\n".join(b for b in text.split("\n* ") if "digest-one" not in b).splitlines())
open(f"{sys.argv[2]}/reply-body", "w").write("Please release the rest.\n\n" + quoted + "\n")
PY
ok "the digest is multipart/alternative to carol, Reply-To set, lists both (HTML escaped) with a link each; none for dave"

if wait_sink "$msgid" 30; then
  ok "pmx-queued delivered the digest through Postfix to the sink"
else
  fail "the digest did not reach the sink within 30 s (entry $entry: $(spool_file "$entry"))"
fi

tok_one=$(cat "$work/token-one")
tok_two=$(cat "$work/token-two")
bad=${tok_one%?}A; [ "$bad" = "$tok_one" ] && bad=${tok_one%?}B
run 1 pmx --user quarantine release-link "$bad"
contains "Refused to release"
ok "a tampered link token is refused"

run 0 pmx --user quarantine release-link "$tok_one" --json
[ "$(json_get 'j["outcome"]')" = released ] || fail "link did not release: $out"
wait_sink "body of digest-one" 30 || fail "the message released by link did not arrive"
run 0 pmx --user quarantine release-link "$tok_one"
contains "already released"
ok "the release link releases digest-one once; it arrives at the sink"

mkreply() {  # mkreply FROM: carol's reply with the quoted digest
  printf 'From: %s\r\nTo: release@gw.test\r\nSubject: Re: Quarantine digest\r\nMessage-ID: <reply-%s@example.test>\r\nIn-Reply-To: %s\r\n\r\n' \
    "$1" "$RANDOM" "$msgid"
  cat "$work/reply-body"
}
out=$(mkreply eve@evil.test | pmx --user quarantine digest-reply --sender eve@evil.test --json 2>&1) || fail "digest-reply from eve exited $?: $out"
[ "$(json_get 'j["released"]')" = 0 ] && [ "$(json_get 'j["refused"]')" = 1 ] || fail "eve's forged reply: $out"
out=$(mkreply carol@example.test | pmx --user quarantine digest-reply --sender MAILER-DAEMON 2>&1) || fail "bounce exited $?: $out"
contains "Ignored"
ok "a reply from another sender is refused, a bounce ignored (both exit 0: nothing bounces)"

# Carol replies by mail: Postfix hands mail for digest.reply_to to the pipe transport the man
# page documents (pmx-quarantine(1), DIGESTS). The pipe runs as an unprivileged user (nobody
# here, pmx in production), which must reach the state directory.
chmod -R a+rwX "$state"
cat > "$work/digest-pipe" <<SH
#!/bin/sh
# What the pipe runs: pmx quarantine digest-reply, its output kept for this test.
PMX_STATE_DIR=$state $(command -v pmx) quarantine digest-reply "\$@" >> $work/pipe.log 2>&1
rc=\$?
# In production the pipe's user owns the spool (pmx); here the daemons run as root without
# CAP_DAC_OVERRIDE, so what nobody queued (mode 0640) must be made readable for them.
find $spool/incoming -type f -user nobody -exec chmod a+r {} + 2>/dev/null
echo "exit \$rc" >> $work/pipe.log
exit \$rc
SH
chmod 0755 "$work/digest-pipe"
touch "$work/pipe.log" && chmod 0666 "$work/pipe.log"
cat >> "$pfx/etc/master.cf" <<CF
pmx-digest unix  -       n       n       -       -       pipe
  flags=Rq user=nobody argv=$work/digest-pipe --sender \${sender}
CF
postconf -c "$pfx/etc" -e "transport_maps = inline:{ release@gw.test=pmx-digest: }"
script -qec "postfix -c $pfx/etc reload" /dev/null >/dev/null
sleep 1
swaks --server 127.0.0.1 --port 2595 --from carol@example.test --to release@gw.test \
      --header "Subject: Re: Quarantine digest" --header "In-Reply-To: $msgid" \
      --body "$(cat "$work/reply-body")" >/dev/null 2>&1 || fail "swaks could not send carol's reply"
pfx_wait_queue_empty "$pfx" 30 || fail "carol's reply stuck in the postfix queue: $(tail -5 "$pfx/log/maillog")"
grep -q "to=<release@gw.test>.*relay=pmx-digest.*status=sent" "$pfx/log/maillog" ||
  fail "the pipe transport did not take the reply: $(grep -i "pmx-digest\|release@" "$pfx/log/maillog" | tail -5)"
run 0 pmx --user queue flush  # pmx-queued may have tried the entry before it was readable
wait_sink "body of digest-two" 60 || fail "the message released by reply did not arrive: $(cat "$work/pipe.log")"
out=$(journalctl -q -t pmx-digest --no-pager)
contains "Reply to a digest from carol@example.test: 1 released, 0 already released, 0 refused, 0 failed"
ok "carol's reply through Postfix's pipe transport releases digest-two; it arrives at the sink"

out=$(mkreply "Carol <carol@example.test>" | pmx --user quarantine digest-reply --sender carol@example.test --json 2>&1) || fail "digest-reply exited $?: $out"
[ "$(json_get 'j["already_released"]')" = 1 ] && [ "$(json_get 'j["released"]')" = 0 ] || fail "second reply: $out"
ok "the same reply again releases nothing twice"

run 0 pmx --user quarantine digest
contains "No digests to send"
[ -z "$(sink_has 'body of digest-dave')" ] || fail "dave's held message was delivered"
ok "nothing left to digest; dave's message stays held"

echo "all $pass checks passed"
