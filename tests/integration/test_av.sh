#!/bin/bash
# The AntiVirus service end to end: pmx-avd with the real ClamAV engine and a signature
# database built here (EICAR + custom signatures), `pmx av`, pmx-milter behind a real
# Postfix, a reload under load, and a stopped pmx-avd.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"
here=$(dirname "$0")

work=$(mktemp -d /tmp/pmx-av-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
# Outside /tmp: pmx-avd runs with PrivateTmp= and would not see it there.
fx=/usr/local/share/pmx-av-test
python3 "$here/av/make-fixtures.py" "$fx" >/dev/null || fail "could not build the test signatures and messages"
mkdir -p "$fx/live" && cp "$fx"/db/* "$fx/live/"
msgs=$fx/msgs
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17361@127.0.0.1"

[av]
enabled = true
database_dir = "$fx/live"
timeout_ms = 30000
TOML
cp "$here/av/policy.toml" $confdir/policy.toml

run 0 pmx --user enable
run 0 pmx --user start
ok "gateway started with pmx-avd on a local test signature database"

run 0 pmx --user av status --json
[ "$(json_get 'j["state"]')" = ready ] || fail "engine not ready: $out"
[ "$(json_get 'j["signatures"]')" = 3 ] || fail "expected 3 signatures: $out"
[ "$(json_get 'j["db_version"]')" = 0 ] || fail "a local database has no version: $out"
sock=$(json_get 'j["socket"]')
run 0 pmx --user av status
contains "Signatures:  3 from $fx/live"
contains "local signatures only"
ok "pmx av status: 3 signatures, local database, socket $sock"

# scan FILE: sets $v to the verdict pmx av scan --json gives for one file ("infected NAMES REASON"),
# and $status to its exit status.
scan() {
  set +e
  out=$(pmx --user av scan --json "$1" 2>&1)
  status=$?
  set -e
  v=$(json_get 'j[0]["verdict"] + " " + ",".join(j[0]["names"]) + " " + j[0]["reason"]') || fail "pmx av scan $1: $out"
}
for m in eicar-base64 eicar-qp eicar-plain eicar-forwarded-zip; do
  scan "$msgs/$m.eml"
  case "$v" in infected\ *Test.EICAR.*) ;; *) fail "$m.eml: expected EICAR, got: $v";; esac
  [ "$status" = 1 ] || fail "$m.eml: exit status $status, expected 1"
done
ok "EICAR found as a plain, base64 and quoted-printable attachment, and in a zip in a forwarded message"

scan "$msgs/custom-marker.eml"
case "$v" in infected\ Test.Custom.Marker.NDB-1*) ;; *) fail "custom signature not found: $v";; esac
ok "the custom signature is found in a base64 text attachment"

scan "$msgs/encrypted-zip.eml"
case "$v" in unscannable\ *Heuristics.Encrypted*) ;; *) fail "encrypted zip: $v";; esac
start=$(date +%s%N)
scan "$msgs/zip-bomb.eml"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
case "$v" in unscannable\ *Heuristics.Limits.Exceeded*) ;; *) fail "zip bomb: $v";; esac
[ "$status" = 1 ] || fail "unscannable: exit status $status, expected 1"
ok "a password-protected zip and a zip bomb (256 MiB of zeros in 350 KB) are unscannable (bomb: $ms ms)"

scan "$msgs/clean.eml"
case "$v" in clean*) ;; *) fail "clean message: $v";; esac
[ "$status" = 0 ] || fail "clean: exit status $status"
run 1 pmx --user av scan "$msgs"
contains "$msgs/clean.eml: clean"
contains "$msgs/eicar-qp.eml: infected: Test.EICAR"
run 3 pmx --user av scan /nonexistent/file
contains "/nonexistent/file: error: cannot open"
run 2 pmx --user av scan
ok "pmx av scan: clean messages are clean; directories, exit statuses 0/1/2/3"

# Through Postfix and pmx-milter.
trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2535 2536
send_file() {  # send_file FILE [TO]
  swaks --server 127.0.0.1 --port 2535 --from sender@example.test --to "${2:-rcpt@example.test}" \
        --data "@$1" 2>&1 || true
}
for m in eicar-base64 eicar-qp eicar-plain eicar-forwarded-zip; do
  out=$(send_file "$msgs/$m.eml")
  contains "550 5.7.1 Virus found: Test.EICAR"
  lacks "queued as"
done
out=$(send_file "$msgs/custom-marker.eml")
contains "550 5.7.1 Virus found: Test.Custom.Marker.NDB-1.UNOFFICIAL"
ok "through Postfix: every infected shape is rejected with the signature's name (policy: quarantine + reject)"

for m in encrypted-zip zip-bomb; do
  out=$(send_file "$msgs/$m.eml")
  contains "550 5.7.1 Unscannable content"
done
ok "through Postfix: the encrypted zip and the zip bomb are rejected as unscannable"

out=$(send_file "$msgs/clean.eml")
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "queue did not drain"
grep -rlq "Subject: clean message" "$pfx/sink" || fail "the clean message was not delivered"
grep -rlq "EICAR" "$pfx/sink" && fail "an infected message reached the sink"
ok "through Postfix: the clean message is delivered, nothing infected is"

run 0 pmx --user quarantine list --reason virus --json
[ "$(json_get 'len(j)')" -ge 5 ] || fail "infected messages not quarantined: $out"
run 0 pmx --user status --json milter
[ "$(json_get 'j[0]["daemon"]["counters"].get("av_infected", 0)')" -ge 5 ] || fail "milter did not count infections: $out"
ok "infected messages are quarantined with reason virus; pmx-milter counts them"

# Reload under load: a client scans in a loop while new signatures are swapped in.
stopfile=$work/stop-scanning
python3 "$here/av/scan-loop.py" "$sock" "$stopfile" "$msgs/clean.eml" "$msgs/eicar-base64.eml" "$msgs/reload-marker.eml" \
  > "$work/loop.out" 2>&1 &
loop=$!
sleep 1
scan "$msgs/reload-marker.eml"
case "$v" in clean*) ;; *) fail "reload marker found before its signature exists: $v";; esac
grep -v '^$' "$fx/db2/test.ndb" > "$fx/live/test.ndb.new" && mv "$fx/live/test.ndb.new" "$fx/live/test.ndb"
run 0 pmx --user reload avd
scan "$msgs/reload-marker.eml"
case "$v" in infected\ Test.Custom.Reload.NDB-1*) ;; *) fail "new signature not active after reload: $v";; esac
run 0 pmx --user av status --json
[ "$(json_get 'j["signatures"]')" = 4 ] || fail "expected 4 signatures after reload: $out"
[ "$(json_get 'j["engine_reloads"]')" = 1 ] || fail "reload not counted: $out"
ok "reload: the new signature is live, status shows 4 signatures"

echo 'Broken.Signature:0:*:zz-not-hex' > "$fx/live/broken.ndb"
run 1 pmx --user reload avd
scan "$msgs/reload-marker.eml"
case "$v" in infected\ Test.Custom.Reload.NDB-1*) ;; *) fail "old engine gone after a failed reload: $v";; esac
run 0 pmx --user av status --json
[ "$(json_get 'j["last_error"]')" != "-" ] || fail "failed reload not reported: $out"
[ "$(json_get 'j["signatures"]')" = 4 ] || fail "old engine not kept: $out"
rm "$fx/live/broken.ndb"
run 0 pmx --user reload avd
run 0 pmx --user av status --json
[ "$(json_get 'j["last_error"]')" = "-" ] || fail "error not cleared by a good reload: $out"
ok "a reload with broken signatures fails, keeps the old engine and says why; the next good one clears it"

touch "$stopfile"
wait "$loop"
loop_out=$(cat "$work/loop.out")
case "$loop_out" in *" errors=0 failures=0"*) ;; *) fail "scans failed during the reloads: $loop_out";; esac
case "$loop_out" in scans=0\ *) fail "the scan loop did not run: $loop_out";; esac
ok "no scan failed during three reloads ($loop_out)"

# pmx-avd down: mail is tempfailed, not passed unscanned.
run 0 pmx --user stop avd
out=$(send_file "$msgs/clean.eml")
contains "451 4.3.0 Virus scanner unavailable"
lacks "queued as"
run 3 pmx --user av status
ok "with pmx-avd stopped, Postfix answers 451 4.3.0 (av.on_failure = tempfail)"

run 0 pmx --user start avd
out=$(send_file "$msgs/clean.eml")
contains "250 2.0.0 Ok: queued"
ok "after pmx-avd starts again, the message is accepted"

echo "all $pass checks passed"
