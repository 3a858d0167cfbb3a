#!/bin/bash
# Sign-in to pmx-httpd under the sandbox's systemd manager, with a real PAM (pam_unix over
# bind-mounted copies of /etc/passwd, shadow, group), Postfix, pmx-milter and pmx-queued:
# an administrator signs in with the system password (cookie HttpOnly, Secure, SameSite=Strict),
# a wrong password gets 401, an account in no group 403, repeated failures 429; a group
# administrator sees only the group's domain; an end user signs in with a password set by
# `pmx web user passwd`; a one-time link requested on the user port arrives through pmx-queued and
# Postfix at the sink, signs in once and never again; logout ends the session; a user session is
# refused on the admin port.
# Ports (this test only): httpd 17382 (admin), 17383 (user); Postfix 2635, sink 2637; milter 17370.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/pmx-httpd-auth-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
WEB_ADMIN_PORT=17382
WEB_USER_PORT=17383
source "$(dirname "$0")/web.sh"
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17370@127.0.0.1"

[queue]
spool_dir = "spool"
relay = "127.0.0.1:2635"
scan_interval_seconds = 1
retry_min_seconds = 1
retry_max_seconds = 2

[httpd]
admin_listen = "127.0.0.1:17382"
user_listen = "127.0.0.1:17383"
assets = "$src/share/web"
user_url = "https://127.0.0.1:17383"
login_max_failures = 3
login_window_seconds = 4

[digest]
from = "quarantine@gw.test"
TOML
cat > $confdir/policy.toml <<'TOML'
[[rule]]
name = "hold for example.test"
when = { recipient = "@example.test" }
then = ["quarantine:held for example.test"]

[[rule]]
name = "hold for other.test"
when = { recipient = "@other.test" }
then = ["quarantine:held for other.test"]
TOML

# System accounts for PAM, before pmx-httpd starts (it copies the mount namespace at start).
web_admin_account alice 'alice-admin-pass1'          # in pmx-admin: Admin
web_admin_account gail 'gail-group-admin1' -         # no system group; a pmx group below
web_admin_account mallory 'mallory-nothing1' -       # neither: may not sign in

statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
mkdir -p "$statedir"
run 0 pmx --user secret list
run 0 pmx --user web group save "Example admins" --member gail --item @example.test=quarantine,lists
contains "Created group Example admins"
run 0 pmx --user enable
run 0 pmx --user start
run 0 pmx --user start httpd
trap 'pfx_stop "$pfx"' EXIT
pfx_start_filtered "$pfx" 2635 2637
ok "gateway, pmx-httpd (17382/17383), Postfix (2635) and sink (2637) up"

sink_has() { grep -rlF -- "$1" "$pfx/sink" 2>/dev/null | head -1; }
wait_sink() {  # wait_sink PATTERN [SECONDS]
  local i
  for i in $(seq $((${2:-30} * 10))); do
    [ -n "$(sink_has "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}
cookie_of() { awk -v n="$2" '$6 == n { print $7 }' "$(web_jar "$1")"; }  # cookie_of REALM NAME
set_cookie() { grep -i '^set-cookie:' "$WEB_DIR/headers" | tr -d '\r'; }

# One message for carol@example.test and dave@other.test, one for erin@example.test: all held.
out=$(swaks --server 127.0.0.1 --port 2635 --from x@sender.test --to carol@example.test,dave@other.test \
            --header "Subject: auth-test both" --body "body both" 2>&1) || true
contains "250 2.0.0 Ok: queued"
out=$(swaks --server 127.0.0.1 --port 2635 --from x@sender.test --to erin@example.test \
            --header "Subject: auth-test erin" --body "body erin" 2>&1) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"
run 0 pmx --user quarantine list --json
[ "$(json_get 'len(j)')" = 2 ] || fail "two held messages expected: $out"
ok "two messages held (carol + dave, erin)"

# ---- administrators: PAM ----------------------------------------------------------------------
web_login admin alice 'alice-admin-pass1' || fail "alice's sign-in: HTTP $web_status $out"
[ "$(json_get 'j["who"]["kind"]')" = admin ] || fail "alice is not admin: $out"
c=$(set_cookie)
for flag in "pmx_admin_session=" HttpOnly Secure SameSite=Strict "Path=/"; do
  [[ "$c" == *"$flag"* ]] || fail "session cookie lacks $flag: $c"
done
out=$(web_rpc admin session.whoami) || fail "whoami: $out"
[ "$(json_get 'j["result"]["name"]')" = alice ] && [ "$(json_get 'j["result"]["kind"]')" = admin ] || fail "whoami: $out"
ok "alice (pmx-admin) signs in through PAM: 200, cookie HttpOnly; Secure; SameSite=Strict; whoami admin"

web_login admin alice 'wrong-password-1' && fail "a wrong password signed in"
[ "$web_status" = 401 ] || fail "wrong password: HTTP $web_status, expected 401"
wrong_msg=$(json_get 'j["error"]' 2>/dev/null || printf '%s' "$out")
web_login admin nosuchuser 'whatever-pass1' && fail "an unknown account signed in"
[ "$web_status" = 401 ] || fail "unknown account: HTTP $web_status"
[ "$(json_get 'j["error"]' 2>/dev/null || printf '%s' "$out")" = "$wrong_msg" ] || fail "unknown account answered differently: $out"
ok "wrong password and unknown account: the same 401"

web_login admin mallory 'mallory-nothing1' && fail "mallory (no group) signed in"
[ "$web_status" = 403 ] || fail "mallory: HTTP $web_status, expected 403: $out"
ok "a valid account in no admin group and no pmx group: 403"

sleep 4.5  # the failures above fall out of the 4 s window
for i in 1 2 3; do
  web_login admin alice "wrong-again-$i" && fail "wrong password signed in"
  [ "$web_status" = 401 ] || fail "failure $i: HTTP $web_status"
done
web_login admin alice 'alice-admin-pass1' && fail "signed in while rate limited"
[ "$web_status" = 429 ] || fail "after 3 failures: HTTP $web_status, expected 429"
sleep 4.5
web_login admin alice 'alice-admin-pass1' || fail "after the window: HTTP $web_status $out"
ok "3 failures within httpd.login_window_seconds: 429 even with the right password; after the window: 200"

# ---- accounts through the admin's RPC --------------------------------------------------------
out=$(web_rpc admin groups.list) || fail "groups.list: $out"
[ "$(json_get '[(g["name"], g["members"], g["items"]) for g in j["result"]]')" = \
  "[('Example admins', ['gail'], [{'pattern': '@example.test', 'rights': ['quarantine', 'lists']}])]" ] ||
  fail "groups.list: $out"
out=$(web_rpc admin web_users.set_password '{"address":"Erin@Example.test","password":"erin-user-pass1"}') || fail "$out"
[ "$(json_get '"error" in j')" = False ] || fail "web_users.set_password: $out"
out=$(web_rpc admin web_users.set_password '{"address":"erin@example.test","password":"short"}') || fail "$out"
[ "$(json_get 'j["error"]["code"]')" = -32602 ] || fail "a short password was taken: $out"
out=$(web_rpc admin delegations.add '{"owner":"erin@example.test","delegate":"carol@example.test"}') || fail "$out"
[ "$(json_get '"error" in j')" = False ] || fail "delegations.add: $out"
run 0 pmx --user web delegate list --json
[ "$(json_get '[(d["owner"], d["delegate"]) for d in j]')" = "[('erin@example.test', 'carol@example.test')]" ] ||
  fail "the CLI does not see the delegation: $out"
ok "alice lists groups, sets erin's password and delegates erin's mail to carol through RPC (the CLI sees it)"

# ---- group administrator: scope -------------------------------------------------------------
web_login admin gail 'gail-group-admin1' || fail "gail's sign-in: HTTP $web_status $out"
[ "$(json_get 'j["who"]["kind"]')" = group_admin ] || fail "gail is not group_admin: $out"
out=$(web_rpc admin session.whoami) || fail "whoami: $out"
[ "$(json_get '[s["pattern"] for s in j["result"]["scope"]]')" = "['@example.test']" ] || fail "gail's scope: $out"
out=$(web_rpc admin quarantine.search '{"state":"any"}') || fail "quarantine.search: $out"
[ "$(json_get 'len(j["result"]["messages"])')" = 2 ] || fail "gail should see two messages: $out"
[ "$(json_get 'sorted(r for m in j["result"]["messages"] for r in m["recipients"])')" = \
  "['carol@example.test', 'erin@example.test']" ] || fail "gail sees recipients outside @example.test: $out"
out=$(web_rpc admin groups.list) || fail "groups.list: $out"
[ "$(json_get 'j["error"]["code"]')" = -32001 ] || fail "a group admin may call groups.list: $out"
ok "gail (pmx group member) is group_admin: sees only @example.test recipients, no admin methods"

# ---- end users: own password ------------------------------------------------------------------
printf 'carol-user-pass1\n' | pmx --user web user passwd carol@example.test --password-stdin >/dev/null ||
  fail "pmx web user passwd failed"
web_login user Carol@Example.test 'carol-user-pass1' || fail "carol's sign-in: HTTP $web_status $out"
[ "$(json_get 'j["who"]["kind"]')" = user ] || fail "carol is not a user: $out"
out=$(web_rpc user quarantine.search '{"state":"any"}') || fail "carol's search: $out"
[ "$(json_get 'sorted(r for m in j["result"]["messages"] for r in m["recipients"])')" = \
  "['carol@example.test', 'erin@example.test']" ] || fail "carol should see her own and erin's (delegated) mail only: $out"
web_login user carol@example.test 'carol-wrong-pass' && fail "carol signed in with a wrong password"
[ "$web_status" = 401 ] || fail "carol wrong password: HTTP $web_status"
web_login admin carol@example.test 'carol-user-pass1' && fail "carol (no group) signed in on the admin port"
[ "$web_status" = 403 ] || fail "carol on the admin port: HTTP $web_status"
ok "carol signs in on the user port with the password set by pmx web user passwd; sees her and erin's (delegated) mail, not dave's; 403 on the admin port"
WEB_DIR_SAVE=$WEB_DIR; WEB_DIR=$work/web-erin; mkdir -p "$WEB_DIR"
web_login user erin@example.test 'erin-user-pass1' || fail "erin's sign-in (password set through RPC): HTTP $web_status $out"
WEB_DIR=$WEB_DIR_SAVE
ok "erin signs in with the password the admin set through web_users.set_password"

# A user session is bound to its port: neither its cookie name nor its value opens the admin port.
user_cookie=$(cookie_of user pmx_user_session)
[ -n "$user_cookie" ] || fail "no pmx_user_session in the user jar"
res=$(WEB_JAR=$(web_jar user) web_http admin POST /rpc '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}')
[ "$(head -1 <<< "$res")" = 401 ] || fail "user jar on the admin port: $res"
res=$(WEB_JAR=/dev/null WEB_CSRF=$(cat "$WEB_DIR/csrf-user") web_http admin POST /rpc \
      '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}' -b "pmx_admin_session=$user_cookie")
[ "$(head -1 <<< "$res")" = 401 ] || fail "user session id as admin cookie: $res"
ok "the user port's session is refused on the admin port (401), also under the admin cookie's name"

# ---- one-time sign-in link --------------------------------------------------------------------
res=$(WEB_CSRF= web_http user POST /api/login-link '{"address":"dave@other.test"}')
[ "$(head -1 <<< "$res")" = 200 ] || fail "login-link for dave: $res"
msg_known=$(tail -n +2 <<< "$res" | jq -r .message | sed 's/dave@other.test/ADDR/')
res=$(WEB_CSRF= web_http user POST /api/login-link '{"address":"stranger@other.test"}')
[ "$(head -1 <<< "$res")" = 200 ] || fail "login-link for a stranger: $res"
msg_unknown=$(tail -n +2 <<< "$res" | jq -r .message | sed 's/stranger@other.test/ADDR/')
[ "$msg_known" = "$msg_unknown" ] || fail "the replies differ: '$msg_known' / '$msg_unknown'"
ok "a link request answers the same for an address with held mail and an unknown one"

wait_sink "To: dave@other.test" 30 || fail "the sign-in link mail did not reach the sink"
f=$(sink_has "To: dave@other.test")
token=$(grep -oE 'login\?token=[A-Za-z0-9_-]{43}' "$f" | head -1 | cut -d= -f2)
[ -n "$token" ] || fail "no token in the mail: $(cat "$f")"
grep -q "https://127.0.0.1:17383/login?token=" "$f" || fail "the link does not use httpd.user_url"
sleep 1
[ -z "$(sink_has 'To: stranger@other.test')" ] || fail "a link was mailed to an unknown address"
ok "the link mail went through pmx-queued and Postfix to the sink (https://127.0.0.1:17383/login?token=...); none for the stranger"

res=$(WEB_JAR=$WEB_DIR/jar-link WEB_CSRF= web_http user GET "/login?token=$token")
[ "$(head -1 <<< "$res")" = 303 ] || fail "following the link: $res"
c=$(set_cookie)
[[ "$c" == *pmx_user_session=* && "$c" == *HttpOnly* && "$c" == *Secure* && "$c" == *SameSite=Strict* ]] ||
  fail "link sign-in cookie: $c"
run 0 pmx --user web session list --json
[ "$(json_get '[s["kind"] for s in j if s["name"] == "dave@other.test"]')" = "['user']" ] || fail "no session for dave: $out"
# The session is live: /rpc with its cookie but without the CSRF token is 403 (not 401).
res=$(WEB_JAR=$WEB_DIR/jar-link WEB_CSRF= web_http user POST /rpc '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}')
[ "$(head -1 <<< "$res")" = 403 ] || fail "dave's session without CSRF: $res"
res=$(WEB_JAR=$WEB_DIR/jar-link2 WEB_CSRF= web_http user GET "/login?token=$token")
[ "$(head -1 <<< "$res")" = 401 ] || fail "second use of the link: $res"
ok "the link signs dave in once (303 + session cookie); the second use is refused (401)"

# A digest's release link token signs its recipient in too (not once only: it lives as long as the link).
pmx --user quarantine digest --recipient dave@other.test --dry-run --print > "$work/digest.eml" ||
  fail "pmx quarantine digest --print failed"
dtoken=$(python3 - "$work/digest.eml" <<'PY'
import email, email.policy, re, sys
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
text = msg.get_body(("plain",)).get_content()
print(re.findall(r"(?<![A-Za-z0-9_.-])([0-9a-f]{8}\.[0-9]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43})", text)[0])
PY
) || fail "no link token in dave's digest: $(head -c 2000 "$work/digest.eml")"
res=$(WEB_JAR=$WEB_DIR/jar-digest WEB_CSRF= web_http user GET "/login?token=$dtoken")
[ "$(head -1 <<< "$res")" = 303 ] || fail "digest token sign-in: $res"
bad=${dtoken%?}A; [ "$bad" = "$dtoken" ] && bad=${dtoken%?}B
res=$(WEB_JAR=$WEB_DIR/jar-digest2 WEB_CSRF= web_http user GET "/login?token=$bad")
[ "$(head -1 <<< "$res")" = 401 ] || fail "a tampered digest token signed in: $res"
ok "the token of a digest's release link signs dave in (303); a tampered one is refused (401)"

# ---- logout -----------------------------------------------------------------------------------
out=$(web_rpc user session.whoami) || fail "carol's whoami before logout: $out"
res=$(WEB_CSRF= web_http user POST /api/logout '{}')
[ "$(head -1 <<< "$res")" = 403 ] || fail "logout without CSRF: $res"
res=$(web_http user POST /api/logout '{}')
[ "$(head -1 <<< "$res")" = 200 ] || fail "logout: $res"
res=$(WEB_JAR=/dev/null web_http user POST /rpc '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}' \
      -b "pmx_user_session=$user_cookie")
[ "$(head -1 <<< "$res")" = 401 ] || fail "the session lives on after logout: $res"
run 0 pmx --user web session list --json
[ "$(json_get '[s for s in j if s["name"] == "carol@example.test"]')" = "[]" ] || fail "carol's session still listed: $out"
ok "logout needs the CSRF token, ends the session (its cookie then gets 401)"

# ---- the CLI ends sessions --------------------------------------------------------------------
out=$(web_rpc admin session.whoami) || fail "gail's whoami: $out"
run 0 pmx --user web session revoke --name gail
contains "Ended 1 session"
res=$(web_http admin POST /rpc '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}')
[ "$(head -1 <<< "$res")" = 401 ] || fail "gail's session lives on after revoke: $res"
ok "pmx web session revoke --name ends a live session at once"

run 0 pmx --user stop httpd
echo "all $pass checks passed"
