#!/bin/bash
# The JSON RPC API through a real pmx-httpd, Postfix, pmx-milter and pmx-queued under the
# sandbox's systemd manager: mail held for two end users (anna, ben, and one message for both);
# anna signs in on the user port, searches and sees only her mail (and only herself on the shared
# one), shows one, releases it (it reaches the sink exactly once, through pmx-queued and Postfix,
# audited as web:anna@...), cannot show, release or delete ben's (not found) nor delete the shared
# one (forbidden); the transport refusals (no session 401, missing or wrong CSRF 403, not JSON 400,
# unknown and other-port methods); her lists and digest opt-out; an administrator on the admin
# port sees everything, deletes ben's message and releases the shared one for ben.
# Ports (this test only): httpd 17384 (admin) and 17385 (user), Postfix 2645, sink 2647, milter 17371.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/pmx-rpc-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
WEB_ADMIN_PORT=17384
WEB_USER_PORT=17385
source "$(dirname "$0")/web.sh"

confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17371@127.0.0.1"

[queue]
relay = "127.0.0.1:2645"
spool_dir = "spool"
scan_interval_seconds = 1
retry_min_seconds = 1
retry_max_seconds = 2

[httpd]
admin_listen = "127.0.0.1:17384"
user_listen = "127.0.0.1:17385"
assets = "$src/share/web"
TOML
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "hold for anna"
when = { recipient = "anna@example.test" }
then = ["quarantine:held for anna"]

[[rule]]
name = "hold for ben"
when = { recipient = "ben@example.test" }
then = ["quarantine:held for ben"]
TOML

# The administrator is a system account in pmx-admin (PAM), made before pmx-httpd starts.
web_admin_account rpcadmin "admin password 17384"
web_admin_account rpcgroup "group password 17384" -  # a group administrator (pmx web group)

statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
mkdir -p "$statedir"
run 0 pmx --user secret list
run 0 pmx --user enable
run 0 pmx --user start
run 0 pmx --user start httpd
trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2645 2647
ok "gateway, pmx-httpd (17384, 17385), Postfix (2645) and sink (2647) up"

# ---- mail held for anna, for ben, and for both ----

tag="rpc$RANDOM"
send() {  # send TO[,TO] MARKER
  local to=$1 marker=$2
  out=$(swaks --server 127.0.0.1 --port 2645 --from sender@example.net --to "$to" \
              --header "Subject: $tag $marker" --header "X-Marker: $marker" \
              --body "The text of $marker." 2>&1) || true
  contains "250 2.0.0 Ok: queued"
}
send anna@example.test m-anna1
send anna@example.test m-anna2
send ben@example.test m-ben1
send anna@example.test,ben@example.test m-both
pfx_wait_queue_empty "$pfx" 20 || fail "message stuck in the postfix queue"
sink_files() { grep -rlF -- "X-Marker: $1" "$pfx/sink" 2>/dev/null || true; }
sink_to() {  # sink_to MARKER RCPT: copies of MARKER delivered to RCPT
  local f n=0
  for f in $(sink_files "$1"); do grep -q "X-Rcpt-Args: <$2>\|RCPT TO:<$2>" "$f" && n=$((n + 1)); done
  echo $n
}
[ -z "$(sink_files m-)" ] || fail "held mail reached the sink"
id_of() {  # id_of MARKER: the quarantine id of the message with that subject
  run 0 pmx --user quarantine list --subject "$tag $1" --json
  [ "$(json_get 'len(j)')" = 1 ] || fail "not exactly one message '$tag $1' held: $out"
  json_get 'j[0]["id"]'
}
a1=$(id_of m-anna1); a2=$(id_of m-anna2); b1=$(id_of m-ben1); both=$(id_of m-both)
ok "four messages held: anna $a1 $a2, ben $b1, both $both"

# ---- end users and their passwords ----

set_password() {  # set_password ADDRESS PASSWORD
  printf '%s\n' "$2" | pmx --user web user passwd "$1" --password-stdin >/dev/null 2>&1 ||
    fail "pmx --user web user passwd $1 failed"
}
set_password anna@example.test "anna password 17385"
set_password ben@example.test "ben password 17385"

# ---- transport refusals ----

call='{"jsonrpc":"2.0","id":1,"method":"session.whoami"}'
out=$(WEB_JAR=/dev/null WEB_CSRF= web_http user POST /rpc "$call")
[ "$(head -1 <<< "$out")" = 401 ] || fail "no session: $out"
web_login user anna@example.test "wrong password 17385" && fail "a wrong password signed in"
[ "$web_status" = 401 ] || fail "wrong password: HTTP $web_status"
web_login user anna@example.test "anna password 17385" || fail "anna cannot sign in: $web_status $out"
out=$(WEB_CSRF= web_http user POST /rpc "$call")
[ "$(head -1 <<< "$out")" = 403 ] || fail "missing CSRF header: $out"
out=$(WEB_CSRF=not-the-token web_http user POST /rpc "$call")
[ "$(head -1 <<< "$out")" = 403 ] || fail "wrong CSRF header: $out"
out=$(WEB_JAR=$(web_jar user) web_http admin POST /rpc "$call")
[ "$(head -1 <<< "$out")" = 401 ] || fail "the user session on the admin port: $out"
out=$(web_http user POST /rpc 'this is not json')
[ "$(head -1 <<< "$out")" = 400 ] || fail "not JSON: $out"
out=$(web_http user POST /rpc "[$call]")
[ "$(head -1 <<< "$out")" = 400 ] || fail "a batch: $out"
ok "no session 401, wrong password 401, missing or wrong CSRF 403, other port's session 401, not JSON or a batch 400"

rpc() {  # rpc REALM METHOD [PARAMS]: the reply in $out
  out=$(web_rpc "$@") || fail "web_rpc $*: HTTP $web_status $out"
}
error_code() { json_get 'j["error"]["code"]'; }
rpc user session.whoami
[ "$(json_get 'j["result"]["name"]')" = anna@example.test ] || fail "whoami: $out"
[ "$(json_get 'j["result"]["kind"]')" = user ] || fail "whoami: $out"
rpc user no.such.method
[ "$(error_code)" = -32601 ] || fail "unknown method: $out"
rpc user services.status
[ "$(error_code)" = -32601 ] || fail "an admin method on the user port: $out"
rpc user quarantine.search '{"limit":0}'
[ "$(error_code)" = -32602 ] || fail "invalid params: $out"
rpc user rpc.methods
[ "$(json_get '"quarantine.release" in [m["name"] for m in j["result"]]')" = True ] || fail "rpc.methods: $out"
[ "$(json_get '"services.status" in [m["name"] for m in j["result"]]')" = False ] || fail "rpc.methods: $out"
ok "whoami, rpc.methods; unknown method and admin method on the user port -32601, bad params -32602"

# ---- anna's quarantine ----

rpc user quarantine.search "{\"subject\":\"$tag\"}"
[ "$(json_get 'sorted(m["id"] for m in j["result"]["messages"])')" = "$(python3 -c "print(sorted([$a1, $a2, $both]))")" ] ||
  fail "anna's search: $out"
[ "$(json_get '[m["recipients"] for m in j["result"]["messages"] if m["id"] == '"$both"'][0]')" = "['anna@example.test']" ] ||
  fail "the shared message shows ben: $out"
[ "$(json_get '"file" in j["result"]["messages"][0]')" = False ] || fail "the server path shown to a user: $out"
rpc user quarantine.search '{"recipient":"ben"}'
[ "$(json_get 'len(j["result"]["messages"])')" = 0 ] || fail "anna finds mail by ben's address: $out"
ok "anna's search finds her three messages, shows only her on the shared one, nothing by ben's address"

rpc user quarantine.show "{\"id\":$a1}"
[ "$(json_get 'j["result"]["subject"]')" = "$tag m-anna1" ] || fail "show: $out"
[ "$(json_get 'j["result"]["text"].strip()')" = "The text of m-anna1." ] || fail "show text: $out"
[ "$(json_get '"X-Marker: m-anna1" in j["result"]["headers"]')" = True ] || fail "show headers: $out"
[ "$(json_get 'j["result"]["why"]["reason"]')" = "held for anna" ] || fail "show why: $out"
ok "quarantine.show: headers, text, why"

rpc user quarantine.show "{\"id\":$b1}"
[ "$(error_code)" = -32002 ] || fail "anna shows ben's message: $out"
rpc user quarantine.release "{\"ids\":[$b1]}"
[ "$(json_get 'j["result"]["results"][0]["error"]')" = "No quarantined message with id $b1" ] || fail "anna releases ben's: $out"
rpc user quarantine.delete "{\"ids\":[$b1]}"
[ "$(json_get 'j["result"]["results"][0]["error"]')" = "No quarantined message with id $b1" ] || fail "anna deletes ben's: $out"
rpc user quarantine.delete "{\"ids\":[$both]}"
[ "$(error_code)" = -32001 ] || fail "anna deletes the shared message: $out"
run 0 pmx --user quarantine show "$b1" --json
[ "$(json_get 'j["held"]')" = True ] || fail "ben's message changed: $out"
run 0 pmx --user quarantine show "$both" --json
[ "$(json_get 'j["held"]')" = True ] || fail "the shared message changed: $out"
ok "ben's message: show -32002, release and delete 'not found'; the shared one cannot be deleted by anna (-32001)"

rpc user quarantine.release "{\"ids\":[$a1]}"
[ "$(json_get 'j["result"]["results"][0]["released"]')" = "['anna@example.test']" ] || fail "release: $out"
for i in $(seq 300); do [ "$(sink_to m-anna1 anna@example.test)" -ge 1 ] && break; sleep 0.1; done
[ "$(sink_to m-anna1 anna@example.test)" -ge 1 ] || fail "the released message did not reach the sink"
pfx_wait_queue_empty "$pfx" 20
sleep 2  # a second copy would come now
[ "$(sink_to m-anna1 anna@example.test)" = 1 ] || fail "anna got it $(sink_to m-anna1 anna@example.test) times"
id_of m-anna1 >/dev/null  # still exactly one: the released copy was not quarantined again
rpc user quarantine.release "{\"ids\":[$a1]}"
[ "$(json_get 'j["result"]["results"][0]["already_released"]')" = "['anna@example.test']" ] || fail "second release: $out"
run 0 pmx --user quarantine audit --id "$a1" --json
[ "$(json_get 'j[0]["actor"]')" = web:anna@example.test ] || fail "audit: $out"
[ "$(json_get 'j[0]["action"]')" = release ] || fail "audit: $out"
[ "$(json_get '"queue entry" in j[0]["detail"]')" = True ] || fail "not released through pmx-queued: $out"
ok "anna releases her message: through pmx-queued to the sink exactly once, audited as web:anna@example.test"

rpc user quarantine.release "{\"ids\":[$both]}"
[ "$(json_get 'j["result"]["results"][0]["released"]')" = "['anna@example.test']" ] || fail "release shared: $out"
run 0 pmx --user quarantine show "$both" --json
[ "$(json_get '[s["released"] for s in j["recipient_states"]]')" = "[True, False]" ] || fail "shared states: $out"
rpc user quarantine.delete "{\"ids\":[$a2]}"
[ "$(json_get 'j["result"]["results"][0]["deleted"]')" = True ] || fail "anna deletes her own: $out"
run 1 pmx --user quarantine show "$a2"
ok "the shared message is released for anna only; anna deletes her own message"

# ---- lists and digest ----

rpc user lists.add '{"list":"allow","entries":["friend@example.net"]}'
[ "$(json_get 'j["result"]["added"]')" = 1 ] || fail "lists.add: $out"
run 0 pmx --user list show --user anna@example.test --json
[ "$(json_get '[(e["kind"], e["pattern"]) for e in j]')" = "[('allow', 'friend@example.net')]" ] || fail "list: $out"
rpc user lists.show
[ "$(json_get 'j["result"]["allow"][0]["pattern"]')" = friend@example.net ] || fail "lists.show: $out"
rpc user lists.add '{"owner":"ben@example.test","list":"allow","entries":["x@example.net"]}'
[ "$(error_code)" = -32001 ] || fail "anna edits ben's list: $out"
rpc user lists.show '{"owner":"ben@example.test"}'
[ "$(error_code)" = -32001 ] || fail "anna reads ben's list: $out"
rpc user lists.remove '{"owner":"","list":"block","entries":["x@example.net"]}'
[ "$(error_code)" = -32001 ] || fail "anna edits the global list: $out"
rpc user lists.remove '{"list":"allow","entries":["friend@example.net"]}'
[ "$(json_get 'j["result"]["removed"]')" = 1 ] || fail "lists.remove: $out"
run 0 pmx --user list show --user anna@example.test --json
[ "$(json_get 'len(j)')" = 0 ] || fail "entry not removed: $out"
ok "lists: anna adds and removes on her own list (pmx list sees it); ben's and the global lists -32001"

rpc user user.settings
[ "$(json_get 'j["result"]["digest_opt_out"]')" = False ] || fail "settings: $out"
[ "$(json_get 'j["result"]["has_password"]')" = True ] || fail "settings: $out"
rpc user user.set_digest '{"opt_out":true}'
[ "$(json_get 'j["result"]["digest_opt_out"]')" = True ] || fail "set_digest: $out"
run 0 pmx --user quarantine digest-optout --json
contains anna@example.test
rpc user user.set_digest '{"opt_out":false}'
rpc user user.settings
[ "$(json_get 'j["result"]["digest_opt_out"]')" = False ] || fail "opt back in: $out"
run 0 pmx --user quarantine digest-optout --json
lacks anna@example.test
ok "digest opt-out round trip (pmx quarantine digest-optout agrees)"

rpc user user.set_password '{"current":"not her password","new":"anna new password 1"}'
[ "$(error_code)" = -32001 ] || fail "set_password with a wrong current password: $out"
rpc user user.set_password '{"current":"anna password 17385","new":"anna new password 1"}'
[ "$(json_get 'j["result"]')" = "{}" ] || fail "set_password: $out"
web_login user anna@example.test "anna password 17385" && fail "the old password still signs in"
web_login user anna@example.test "anna new password 1" || fail "the new password does not sign in: $web_status $out"
ok "user.set_password: a wrong current password -32001; the new one signs in, the old one not"

# ---- a group administrator with ben's address in scope ----

run 0 pmx --user web group save rpc-ops --member rpcgroup --item ben@example.test=quarantine,lists
web_login admin rpcgroup "group password 17384" || fail "the group admin cannot sign in: $web_status $out"
rpc admin session.whoami
[ "$(json_get 'j["result"]["kind"]')" = group_admin ] || fail "whoami: $out"
rpc admin quarantine.search "{\"subject\":\"$tag\"}"
[ "$(json_get 'sorted(m["id"] for m in j["result"]["messages"])')" = "$(python3 -c "print(sorted([$b1, $both]))")" ] ||
  fail "the group admin's search: $out"
[ "$(json_get '[m["recipients"] for m in j["result"]["messages"] if m["id"] == '"$both"'][0]')" = "['ben@example.test']" ] ||
  fail "the group admin sees anna on the shared message: $out"
rpc admin quarantine.show "{\"id\":$a1}"
[ "$(error_code)" = -32002 ] || fail "the group admin shows anna's message: $out"
rpc admin lists.show '{"owner":"ben@example.test"}'
[ "$(json_get 'j["result"]["owner"]')" = ben@example.test ] || fail "the group admin's lists.show: $out"
rpc admin lists.show '{"owner":"anna@example.test"}'
[ "$(error_code)" = -32001 ] || fail "the group admin reads anna's lists: $out"
rpc admin services.status
[ "$(error_code)" = -32001 ] || fail "the group admin calls an admin-only method: $out"
ok "a group admin sees only ben's mail (and only ben on the shared one); anna's lists and admin-only methods -32001"

# ---- the administrator ----

web_login admin rpcadmin "admin password 17384" || fail "the admin cannot sign in: $web_status $out"
rpc admin quarantine.search "{\"subject\":\"$tag\"}"
[ "$(json_get 'sorted(m["id"] for m in j["result"]["messages"])')" = "$(python3 -c "print(sorted([$a1, $b1, $both]))")" ] ||
  fail "admin's search: $out"
[ "$(json_get '[len(m["recipients"]) for m in j["result"]["messages"] if m["id"] == '"$both"'][0]')" = 2 ] ||
  fail "admin does not see both recipients: $out"
rpc admin quarantine.delete "{\"ids\":[$b1]}"
[ "$(json_get 'j["result"]["results"][0]["deleted"]')" = True ] || fail "admin delete: $out"
run 1 pmx --user quarantine show "$b1"
rpc admin quarantine.release "{\"ids\":[$both]}"
[ "$(json_get 'j["result"]["results"][0]["released"]')" = "['ben@example.test']" ] || fail "admin release: $out"
for i in $(seq 300); do [ "$(sink_to m-both ben@example.test)" -ge 1 ] && break; sleep 0.1; done
[ "$(sink_to m-both ben@example.test)" = 1 ] || fail "ben did not get the shared message"
run 0 pmx --user quarantine audit --id "$b1" --json
[ "$(json_get 'j[0]["actor"]')" = web:rpcadmin ] || fail "audit: $out"
ok "the admin sees everything, deletes ben's message and releases the shared one for ben (audited as web:rpcadmin)"

# ---- sign out ----

out=$(web_http user POST /api/logout)
[ "$(head -1 <<< "$out")" = 200 ] || fail "logout: $out"
out=$(web_http user POST /rpc "$call")
[ "$(head -1 <<< "$out")" = 401 ] || fail "after logout: $out"
ok "after signing out the session is gone (401)"

echo "all $pass checks passed"
