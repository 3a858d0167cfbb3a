#!/bin/bash
# The policy's remove_infected and notify actions end to end: real Postfix, pmx-milter and
# pmx-avd with the test signature database (as in test_av.sh). An infected attachment is cut
# out and replaced by a note, the clean part arrives intact; a virus that cannot be cut out
# (single-part message) is quarantined instead; notify:admin leaves a notice in the spool.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"
here=$(dirname "$0")

work=$(mktemp -d /tmp/pmx-avact-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
# Outside /tmp: pmx-avd runs with PrivateTmp= and would not see it there.
fx=/usr/local/share/pmx-av-actions-test
python3 "$here/av/make-fixtures.py" "$fx" >/dev/null || fail "could not build the test signatures and messages"
mkdir -p "$fx/live" && cp "$fx"/db/* "$fx/live/"
msgs=$fx/msgs
# A single-part message whose whole body is EICAR: nothing to cut it out of.
python3 - "$msgs/eicar-single.eml" <<'PY'
import sys
eicar = r"X5O!P%@AP[4\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-" + r"TEST-FILE!$H+H*"
open(sys.argv[1], "w").write("From: sender@example.test\nTo: rcpt@example.test\nSubject: eicar single part\n"
                             "Message-ID: <single@example.test>\n\n" + eicar + "\n")
PY

confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17368@127.0.0.1"

[av]
enabled = true
database_dir = "$fx/live"
timeout_ms = 30000
notify_admin = "virus-admin@example.test"
notify_from = "pmx-notices@gw.test"

[queue]
spool_dir = "spool"
relay = "127.0.0.1:2605"
TOML
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "viruses: cut them out, keep a copy, tell the admin"
when = { virus = true }
then = ["quarantine_copy:virus", "remove_infected", "notify:admin virus", "add_header:X-PMX-Test: cleaned"]

[[rule]]
name = "unscannable"
when = { unscannable = true }
then = ["reject:550 5.7.1 Unscannable content"]
TOML

run 0 pmx --user policy check
run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started: a policy with remove_infected and notify:admin passes pmx policy check"

# pmx policy check points at mistakes in the new actions.
bad=$work/bad-policy.toml
printf '[[rule]]\nname = "x"\nthen = ["notify:admn virus", "add_header:X-F: {filename}"]\n' > "$bad"
run 1 pmx --user policy check "$bad"
contains "did you mean \"admin\""
contains "\"{filename}\" is only known in remove_infected's note"
ok "pmx policy check: a misspelt notify target and {filename} outside remove_infected are errors"

trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2605 2607
send_file() {  # send_file FILE [TO]
  swaks --server 127.0.0.1 --port 2605 --from sender@example.test --to "${2:-rcpt@example.test}" \
        --data "@$1" 2>&1 || true
}
# sink_file SUBJECT: the delivered message with that subject (smtp-sink's dump), or nothing.
sink_file() { grep -rlF -- "Subject: $1" "$pfx/sink" 2>/dev/null | head -1; }

out=$(send_file "$msgs/eicar-base64.eml")
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
f=$(sink_file "eicar attachment")
[ -n "$f" ] || fail "the cleaned message did not reach the sink"
out=$(python3 - "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
leaves = [p for p in m.walk() if not p.is_multipart()]
print("parts:", len(leaves))
for p in leaves:
    print("part:", p.get_content_type(), p.get_filename(), repr(" ".join(p.get_content().split())))
print("removed-header:", m.get("X-PMX-Virus-Removed"))
print("test-header:", m.get("X-PMX-Test"))
PY
)
contains "parts: 2"
contains "part: text/plain None 'Attached.'"
contains "part: text/plain None 'The attachment eicar.com was removed from this message by the mail gateway: it contained Test.EICAR"
contains "removed-header: eicar.com (Test.EICAR"
contains "test-header: cleaned"
lacks "application/octet-stream"
grep -q "WDVPIVAlQEFQWzRcUFpYNTQoUF4pN0NDKTd9JEVJQ0FSLVNUQU5EQVJELUFOVElWSVJVUy1URVNULUZJTEUhJEgrSCo" "$f" \
  && fail "the EICAR attachment reached the sink"
run 0 pmx --user av scan "$f"
contains ": clean"
ok "an EICAR attachment is cut out: the sink gets the text part intact and a note naming the file and the signature, and it scans clean"

out=$(send_file "$msgs/eicar-forwarded-zip.eml")
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
f=$(sink_file "Fwd: the original")
[ -n "$f" ] || fail "the cleaned forwarded message did not reach the sink"
out=$(python3 - "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for p in m.walk():
    if not p.is_multipart() and p.get_content_type() != "message/rfc822":
        print("part:", p.get_content_type(), p.get_filename(), repr(" ".join(p.get_content().split())[:120]))
PY
)
contains "part: text/plain None 'Forwarding this.'"
contains "part: text/plain None 'Original text.'"
contains "The attachment docs.zip was removed"
lacks "application/zip"
run 0 pmx --user av scan "$f"
contains ": clean"
ok "a zip with EICAR inside a forwarded message is cut out of the inner message; both texts stay"

out=$(send_file "$msgs/eicar-single.eml")
contains "250 2.0.0 Ok: queued"  # accepted from the sender, delivered to nobody
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
[ -z "$(sink_file "eicar single part")" ] || fail "a single-part infected message was delivered"
run 0 pmx --user quarantine list --reason virus --json
n=$(json_get 'len([m for m in j if "single" in m.get("subject", "")])')
[ "$n" -ge 1 ] || fail "the single-part infected message is not in quarantine: $out"
ok "a virus in the body of a single-part message cannot be cut out: av.remove_fallback quarantines it, nothing is delivered"

run 0 pmx --user config set av.remove_fallback reject
out=$(send_file "$msgs/eicar-single.eml")
contains "550 5.7.1 Message contains a virus (Test.EICAR"
lacks "queued as"
run 0 pmx --user config set av.remove_fallback quarantine
ok "with av.remove_fallback = reject, Postfix answers 550 5.7.1 naming the virus instead"

out=$(send_file "$msgs/clean.eml")
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
f=$(sink_file "clean message")
[ -n "$f" ] || fail "the clean message was not delivered"
grep -q "X-PMX-Virus-Removed" "$f" && fail "a clean message got X-PMX-Virus-Removed"
ok "a clean message passes untouched"

run 0 pmx --user status --json milter
[ "$(json_get 'j[0]["daemon"]["counters"].get("av_parts_removed", 0)')" -ge 2 ] || fail "removals not counted: $out"
[ "$(json_get 'j[0]["daemon"]["counters"].get("av_remove_failed", 0)')" -ge 2 ] || fail "fallback not counted: $out"
[ "$(json_get 'j[0]["daemon"]["counters"].get("notifications", 0)')" -ge 4 ] || fail "notices not counted: $out"
ok "pmx-milter counts removals, fallbacks and notices"
# For the record, not a check: the milter's time per message (MAIL FROM to verdict, so the SMTP
# transfer too); the infected ones include the per-part scans, the cut, the check and the notice.
run 0 pmx --user log --json --limit 20
json_get '"\n".join("# milter time %6.1f ms, %6d bytes, %s" % (e["elapsed_us"] / 1000, e["size"], ",".join(sorted({r["verdict"] for r in e["recipients"]}))) for e in j)'

# The notices: spool entries of kind notification for the admin, naming the virus (in whatever
# state pmx-queued has put them since).
run 0 pmx --user queue list --all --json
ids=$(json_get '" ".join(e["id"] for e in j if e["kind"] == "notification" and e["sender"] == "pmx-notices@gw.test" and any(r["address"] == "virus-admin@example.test" for r in e["recipients"]))')
[ -n "$ids" ] || fail "no notification for virus-admin@example.test from pmx-notices@gw.test in the spool: $out"
[ "$(echo $ids | wc -w)" -ge 4 ] || fail "expected 4 notices (one per infected message): $out"
id=${ids%% *}
run 0 pmx --user queue show --message --json "$id"
out=$(json_get 'j["message"]')
contains "Subject: [pmx] Virus found in a message from sender@example.test"
contains "Auto-Submitted: auto-generated"
contains "Viruses:       Test.EICAR"
contains "Removed:       eicar.com (Test.EICAR"
contains "What happened: delivered without the infected attachments"
ok "notify:admin spooled a notice of kind notification per infected message, for av.notify_admin, from av.notify_from, naming the virus"

# A notice of ours coming back through the filter (a stamp that did not verify): cleaned like any
# mail, but no notice about a notice, or a rule that notifies on everything would loop.
sed -e 's/^Message-ID: .*/Message-ID: <pmx-notice.1.2.3@gw.test>/' -e 's/^Subject: eicar attachment/Subject: looped notice/' \
    -e '0,/^Message-ID/s//Auto-Submitted: auto-generated\nMessage-ID/' "$msgs/eicar-base64.eml" > "$work/own-notice.eml"
grep -q "^Auto-Submitted: auto-generated" "$work/own-notice.eml" || fail "could not build the looped notice"
run 0 pmx --user queue list --all --json
before=$(json_get 'len([e for e in j if e["kind"] == "notification"])')
out=$(send_file "$work/own-notice.eml")
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
[ -n "$(sink_file "looped notice")" ] || fail "the looped notice was not delivered"
run 0 pmx --user queue list --all --json
after=$(json_get 'len([e for e in j if e["kind"] == "notification"])')
[ "$after" = "$before" ] || fail "a notice about one of our own notices was spooled ($before before, $after after)"
ok "no notice about one of pmx's own notices (Auto-Submitted, Message-ID <pmx-notice.*>): no notice loop"

echo "all $pass checks passed"
