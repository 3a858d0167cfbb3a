#!/bin/bash
# The web pages in a real browser (headless Chromium driven by playwright-core) against a real
# pmx-httpd, with mail quarantined through a real Postfix and pmx-milter and released through
# pmx-queued: the administrator finds the message with a hostile subject, opens and releases
# it (it reaches the sink exactly once); the end user sees only their own mail and releases one
# (it arrives too). Screenshots go to $PMX_TEST_ARTIFACTS (default: the build's meson-logs).
# The page scan (tests/browser/web_test.js) checks the security headers of every response, the
# session cookies, the CSRF header of every POST, that the pages have no inline script and that
# no JavaScript dialog ever opens.
# Needs: /usr/bin/chromium, node, and playwright-core (tests/browser/package.json), installed on
# first use into ~/.cache/pmx-tests (the only network access; skipped when that fails).
# Ports (this test only): httpd 17388 (admin) / 17389 (user), Postfix 2665, sink 2667, milter 17373.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

here=$(cd "$(dirname "$0")" && pwd)
browser_dir=$(cd "$here/../browser" && pwd)

# Screenshots: $PMX_TEST_ARTIFACTS, else the meson-logs of the build directory meson test runs
# tests in (the working directory), else /tmp.
art=${PMX_TEST_ARTIFACTS:-}
if [ -z "$art" ]; then
  for d in "$(pwd)" "${OLDPWD:-}"; do
    [ -n "$d" ] && [ -d "$d/meson-logs" ] && { art=$d/meson-logs/web-browser; break; }
  done
fi
art=${art:-/tmp/pmx-web-browser-artifacts}
mkdir -p "$art"

# playwright-core, pinned by tests/browser/package.json and package-lock.json, in a cache outside
# the repo. The account's real home: inside the sandbox HOME is a fresh directory per run.
chromium=${CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] || { echo "SKIP: no $chromium (apt-get install chromium)"; exit 77; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "SKIP: node and npm are needed"; exit 77; }
real_home=$(getent passwd "$(id -u)" | cut -d: -f6)
cache=${PMX_TEST_CACHE:-$real_home/.cache/pmx-tests}
want=$(jq -r '.dependencies["playwright-core"]' "$browser_dir/package.json")
have=$(jq -r .version "$cache/node_modules/playwright-core/package.json" 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  mkdir -p "$cache"
  cp "$browser_dir/package.json" "$browser_dir/package-lock.json" "$cache/"
  npm ci --prefix "$cache" --no-audit --no-fund --loglevel=error >"$cache/npm.log" 2>&1 ||
    { cat "$cache/npm.log"; echo "SKIP: could not install playwright-core $want into $cache"; exit 77; }
fi
ok "playwright-core $want in $cache; browser $chromium"

work=$(mktemp -d /tmp/pmx-webb-XXXXXX)
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
mkdir -p $confdir
cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17373@127.0.0.1"

[queue]
relay = "127.0.0.1:2665"
spool_dir = "spool"
scan_interval_seconds = 1
retry_min_seconds = 1
retry_max_seconds = 2

[httpd]
admin_listen = "127.0.0.1:17388"
user_listen = "127.0.0.1:17389"
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

WEB_ADMIN_PORT=17388 WEB_USER_PORT=17389
source "$here/web.sh"
admin_pw="Adm1n-$RANDOM-pw"
web_admin_account webadmin "$admin_pw"  # before pmx-httpd starts (it copies the mounts)

statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
mkdir -p "$statedir"
run 0 pmx --user secret list
run 0 pmx --user enable
run 0 pmx --user start
for i in $(seq 100); do
  curl -ksf https://127.0.0.1:17388/health >/dev/null 2>&1 && curl -ksf https://127.0.0.1:17389/health >/dev/null 2>&1 && break
  sleep 0.1
done
curl -ksf https://127.0.0.1:17388/health >/dev/null || fail "pmx-httpd does not answer on 17388"
ok "gateway started: milter 17373, pmx-httpd 17388 (admin) and 17389 (user)"

trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2665 2667
ok "Postfix (2665) filters through pmx-milter and relays to the sink (2667)"

tag=$RANDOM
xss_word="xsswren$tag"
xss_subject="<script>alert(1)</script><img src=x onerror=alert(2)> $xss_word"
user_word="usrheron$tag"
other_word="othrlark$tag"
send() {  # send FROM TO SUBJECT MARKER
  swaks --server 127.0.0.1 --port 2665 --from "$1" --to "$2" --header "Subject: $3" --header "X-Marker: $4" \
        --body "Body of $4: <b>not bold</b> & <script>alert(3)</script>" 2>&1
}
out=$(send mallory@evil.test carol@example.test "$xss_subject" m-xss) || true
contains "250 2.0.0 Ok: queued"
out=$(send alice@example.test carol@example.test "Quarterly figures $user_word" m-user) || true
contains "250 2.0.0 Ok: queued"
out=$(send alice@example.test dave@example.test "For dave only $other_word" m-other) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"

sink_files() { grep -rlF -- "X-Marker: $1" "$pfx/sink" 2>/dev/null || true; }
sink_count() { sink_files "$1" | grep -c . || true; }
[ "$(sink_count m-xss)$(sink_count m-user)$(sink_count m-other)" = 000 ] || fail "held mail reached the sink"
run 0 pmx --user quarantine list --text "$xss_word" --json
[ "$(json_get 'len(j)')" = 1 ] || fail "the hostile message is not quarantined: $out"
[ "$(json_get 'j[0]["subject"]')" = "$xss_subject" ] || fail "subject stored as: $(json_get 'j[0]["subject"]')"
run 0 pmx --user quarantine list --recipient carol@example.test --json
[ "$(json_get 'len(j)')" = 2 ] || fail "carol should have two held messages: $out"
run 0 pmx --user quarantine list --recipient dave@example.test --json
[ "$(json_get 'len(j)')" = 1 ] || fail "dave should have one held message: $out"
ok "three messages held (two for carol, one with subject $xss_subject; one for dave); nothing delivered"

# A one-time sign-in link for carol, mailed through pmx-queued and Postfix to the sink; the
# browser follows it in a fresh profile.
curl -sk -o /dev/null -X POST -H 'Content-Type: application/json' \
     --data '{"address":"carol@example.test"}' https://127.0.0.1:17389/api/login-link
link_token=""
for _ in $(seq 100); do
  link_token=$(grep -rhoE 'login\?token=[A-Za-z0-9_-]{43}' "$pfx/sink" 2>/dev/null | head -1 | cut -d= -f2 || true)
  [ -n "$link_token" ] && break
  sleep 0.2
done
[ -n "$link_token" ] || fail "no sign-in link mail for carol reached the sink"
ok "a one-time sign-in link for carol went through pmx-queued and Postfix to the sink"

user_pw="Us3r-$RANDOM-pw"
set +e
PMX_PLAYWRIGHT=$cache/node_modules/playwright-core CHROMIUM=$chromium \
ADMIN_URL=https://127.0.0.1:17388 USER_URL=https://127.0.0.1:17389 \
ADMIN_NAME=webadmin ADMIN_PASSWORD=$admin_pw USER_NAME=carol@example.test USER_PASSWORD=$user_pw \
XSS_WORD=$xss_word XSS_SUBJECT=$xss_subject USER_WORD=$user_word USER_SUBJECT="Quarterly figures $user_word" \
OTHER_WORD=$other_word OTHER_SUBJECT="For dave only $other_word" ARTIFACTS=$art \
LINK_TOKEN=$link_token GROUP_ADMIN=gina@example.test GROUP_ADMIN_PASSWORD="Gr0up-$RANDOM-pw" \
  timeout 150 node "$browser_dir/web_test.js" 2>&1 | sed 's/^/  browser: /'
status=${PIPESTATUS[0]}
set -e
[ "$status" = 0 ] || fail "the browser test failed (exit $status); screenshots so far in $art"
ok "in Chromium: admin signs in, dashboard, every view, finds/opens/releases the hostile message, makes a group; the group admin sees only Quarantine; the end user sees only their mail and releases one; page scan clean"

wait_sink() {  # wait_sink MARKER [SECONDS]
  local i
  for i in $(seq $(( ${2:-30} * 10 ))); do
    [ "$(sink_count "$1")" -ge 1 ] && return 0
    sleep 0.1
  done
  return 1
}
wait_sink m-xss 30 || fail "the message the administrator released did not reach the sink"
wait_sink m-user 30 || fail "the message the end user released did not reach the sink"
pfx_wait_queue_empty "$pfx" 20
sleep 2  # a second copy would come now
[ "$(sink_count m-xss)" = 1 ] || fail "the admin-released message arrived $(sink_count m-xss) times"
[ "$(sink_count m-user)" = 1 ] || fail "the user-released message arrived $(sink_count m-user) times"
[ "$(sink_count m-other)" = 0 ] || fail "dave's message was delivered"
grep -q "RCPT TO:<carol@example.test>\|X-Rcpt-Args: <carol@example.test>" $(sink_files m-xss) ||
  fail "the released message did not go to carol"
run 0 pmx --user quarantine list --text "$other_word" --json
[ "$(json_get 'j[0]["held"]')" = True ] || fail "dave's message is no longer held: $out"
run 0 pmx --user quarantine audit --json
actors=$(json_get '" ".join(sorted(set(e["actor"] for e in j if e["action"] == "release")))')
case "$actors" in *webadmin*carol@example.test*|*carol@example.test*webadmin*) ;;
  *) fail "the audit log does not name both who released: $actors";; esac
ok "both released messages reached the sink exactly once; dave's stays held; the audit log names webadmin and carol"

run 0 pmx --user list show --user carol@example.test --kind allow
contains "friend@partner.test"
run 0 pmx --user quarantine digest-optout --json
[ "$(json_get '[e["address"] for e in j]')" = "['carol@example.test']" ] || fail "carol's digest opt-out: $out"
ok "what the end user did on the page is in the store: allow-list entry, digest opt-out"

echo "# screenshots: $(ls "$art"/web-*.png | tr '\n' ' ')"
echo "all $pass checks passed"
