#!/bin/bash
# pmx-httpd under the sandbox's systemd manager: starts with `pmx --user start httpd`, makes its
# self-signed certificate once, serves both interfaces over TLS only (plain HTTP refused), the
# security headers on every kind of response, the admin page on the admin port and the end-user
# page on the user port, /health, refusals (401 without a session, 405, 403 cross-origin, 413),
# path safety of /assets, status, reload, restart with the same certificate, and clear start
# errors for a broken certificate or key.
# Ports (this test only): 17380 (admin), 17381 (user).
source "$(dirname "$0")/lib.sh"

work=$(mktemp -d /tmp/pmx-httpd-XXXXXX)
trap 'rm -rf "$work"' EXIT
confdir=/usr/local/etc/pmx
statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
admin=https://127.0.0.1:17380
user=https://127.0.0.1:17381
mkdir -p $confdir

# The pages are the installed ones (httpd.assets "web": /usr/local/share/pmx/web).
cat > $confdir/pmx.toml <<TOML
[httpd]
admin_listen = "127.0.0.1:17380"
user_listen = "127.0.0.1:17381"
TOML

# req METHOD URL [CURL_ARGS...]: sets code (HTTP status), body, and headers (file $work/h).
req() {
  local method=$1 url=$2; shift 2
  set +e
  body=$(curl -k -sS -X "$method" -D "$work/h" -o "$work/body" -w '%{http_code}' "$@" "$url" 2>"$work/err")
  local rc=$?
  set -e
  code=$body
  body=$(cat "$work/body" 2>/dev/null || true)
  [ $rc -eq 0 ] || code=000
}
header() { grep -i "^$1:" "$work/h" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }
expect() {  # expect CODE WHAT
  [ "$code" = "$1" ] || { cat "$work/h" "$work/body" "$work/err" >&2 2>/dev/null; fail "$2: HTTP $code, expected $1"; }
}
security_headers() {  # security_headers WHAT [asset]
  [ "$(header Content-Security-Policy)" = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'" ] \
    || { cat "$work/h" >&2; fail "$1: Content-Security-Policy missing or wrong"; }
  [ "$(header X-Frame-Options)" = DENY ] || fail "$1: X-Frame-Options"
  [ "$(header X-Content-Type-Options)" = nosniff ] || fail "$1: X-Content-Type-Options"
  [ "$(header Referrer-Policy)" = no-referrer ] || fail "$1: Referrer-Policy"
  [ -n "$(header Strict-Transport-Security)" ] || fail "$1: Strict-Transport-Security"
  if [ "${2:-}" = asset ]; then
    [ "$(header Cache-Control)" != no-store ] || fail "$1: an asset is no-store"
  else
    [ "$(header Cache-Control)" = no-store ] || fail "$1: Cache-Control is '$(header Cache-Control)', not no-store"
  fi
}
fingerprint() { openssl x509 -noout -fingerprint -sha256 -in "$statedir/httpd-cert.pem" | cut -d= -f2; }
served_fingerprint() {  # the certificate the port presents
  openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2
}

[ ! -e "$statedir/httpd-cert.pem" ] || fail "a certificate exists before the first start"
run 0 pmx --user start httpd
ok "pmx --user start httpd"

run 0 pmx --user status --json httpd
[ "$(json_get 'j[0]["active_state"]')" = active ] || fail "pmx-httpd not active"
[ "$(json_get 'j[0]["daemon"]["listen"]')" = "$admin (admin), $user (user)" ] || fail "listen: $out"
run 0 pmx --user status httpd
contains "pmx-httpd"
contains "active (running)"
ok "status shows pmx-httpd active, listening on $admin (admin), $user (user)"

[ -f "$statedir/httpd-cert.pem" ] && [ -f "$statedir/httpd-key.pem" ] || fail "no self-signed pair in $statedir"
[ "$(stat -c %a "$statedir/httpd-key.pem")" = 600 ] || fail "key mode $(stat -c %a "$statedir/httpd-key.pem")"
openssl x509 -noout -text -in "$statedir/httpd-cert.pem" > "$work/cert.txt"
grep -q "DNS:localhost" "$work/cert.txt" && grep -q "IP Address:127.0.0.1" "$work/cert.txt" \
  && grep -q "IP Address:0:0:0:0:0:0:0:1" "$work/cert.txt" && grep -q "prime256v1" "$work/cert.txt" \
  || { cat "$work/cert.txt" >&2; fail "certificate lacks the names or is not P-256"; }
fp=$(fingerprint)
[ "$(served_fingerprint 17380)" = "$fp" ] && [ "$(served_fingerprint 17381)" = "$fp" ] \
  || fail "the ports do not present $statedir/httpd-cert.pem"
run 0 journalctl --no-pager -q -u pmx-httpd.service
contains "self-signed"
ok "self-signed certificate made once (P-256, localhost, 127.0.0.1, ::1; key 0600), served on both ports"

req GET $admin/health
expect 200 "/health on the admin port"
[ "$body" = ok ] || fail "/health says '$body'"
security_headers "/health"
req GET $user/health
expect 200 "/health on the user port"
ok "/health answers ok on both ports, with the security headers"

set +e
plain=$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://127.0.0.1:17380/health 2>&1)
plain_rc=$?
set -e
[ $plain_rc -ne 0 ] || fail "plain HTTP on the admin port answered ($plain)"
req GET http://127.0.0.1:17381/health -m 10
[ "$code" = 000 ] || fail "plain HTTP on the user port answered $code"
# TLS 1.1 and older are refused.
if openssl s_client -connect 127.0.0.1:17380 -tls1_1 </dev/null >/dev/null 2>&1; then fail "TLS 1.1 accepted"; fi
ok "TLS only: plain HTTP and TLS 1.1 get no answer"

req GET $admin/
expect 200 "GET / on the admin port"
[[ "$body" == *"/assets/admin.js"* ]] || fail "admin port did not serve admin.html"
[[ "$(header Content-Type)" == "text/html; charset=utf-8" ]] || fail "page Content-Type $(header Content-Type)"
security_headers "admin page"
req GET $user/
expect 200 "GET / on the user port"
[[ "$body" == *"/assets/user.js"* ]] || fail "user port did not serve user.html"
ok "admin.html on the admin port, user.html on the user port"

req GET $admin/assets/pmx.css
expect 200 "pmx.css"
[ "$(header Content-Type)" = "text/css; charset=utf-8" ] || fail "css Content-Type $(header Content-Type)"
security_headers "asset" asset
req GET $admin/assets/admin.js
[ "$(header Content-Type)" = "text/javascript; charset=utf-8" ] || fail "js Content-Type $(header Content-Type)"
req GET $admin/assets/logo.svg
[ "$(header Content-Type)" = "image/svg+xml" ] || fail "svg Content-Type $(header Content-Type)"
ok "assets with their content types (css, js, svg)"

for p in /assets/../admin.html /assets/%2e%2e/admin.html /assets/%2E%2E/%2E%2E/pmx.toml /assets//etc/passwd \
         /assets/.hidden /assets/%00 /assets/ /nothing /admin.html; do
  req GET "$admin$p" --path-as-is
  expect 404 "GET $p"
  security_headers "404 for $p"
done
ok "paths outside the assets, dot files, NUL and unknown paths: 404 (with the security headers)"

req POST $admin/rpc -H 'Content-Type: application/json' --data-binary '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}'
expect 401 "/rpc without a session"
security_headers "401"
req POST $user/rpc -H 'Content-Type: application/json' --data-binary '{"jsonrpc":"2.0","id":1,"method":"session.whoami"}' \
  -b 'pmx_user_session=forged'
expect 401 "/rpc with a forged session cookie"
ok "/rpc without or with a forged session: 401"

req GET $admin/rpc
expect 405 "GET /rpc"
[ "$(header Allow)" = POST ] || fail "405 without Allow: POST"
security_headers "405"
req POST $admin/health --data-binary x
expect 405 "POST /health"
ok "405 for the wrong method"

req POST $admin/api/login -H 'Origin: https://evil.example' -H 'Content-Type: application/json' \
  --data-binary '{"name":"root","password":"x"}'
expect 403 "cross-origin sign-in"
security_headers "403"
req POST $user/rpc -H 'Origin: https://127.0.0.1:17380' --data-binary '{}'
expect 403 "POST from the admin port's origin to the user port"
ok "cross-origin POSTs refused (403)"

head -c $((2 * 1024 * 1024)) /dev/zero > "$work/big"
req POST $admin/rpc --data-binary @"$work/big"
expect 413 "2 MiB body"
security_headers "413"
req POST $user/api/login -H 'Transfer-Encoding: chunked' --data-binary @"$work/big"
[ "$code" = 413 ] || [ "$code" = 000 ] || fail "chunked 2 MiB body: HTTP $code"
req GET $admin/health
expect 200 "/health after the oversized bodies"
ok "bodies over httpd.max_request_bytes: 413 (chunked: 413 or hung up), the server carries on"

run 0 pmx --user config set httpd.max_request_bytes 4096
contains "pmx-httpd.service: reloaded"
run 0 pmx --user status --json httpd
[ "$(json_get 'j[0]["daemon"]["config_generation"]')" = 2 ] || fail "not on generation 2 after config set"
head -c 5000 /dev/zero > "$work/5k"
req POST $admin/rpc --data-binary @"$work/5k"
expect 413 "5000 bytes after max_request_bytes = 4096"
run 0 pmx --user reload httpd
run 0 pmx --user status --json httpd
[ "$(json_get 'j[0]["daemon"]["config_generation"]')" = 3 ] || fail "not on generation 3 after reload"
ok "reload: httpd.max_request_bytes 4096 is live without a restart (5000 bytes: 413)"

run 0 pmx --user restart httpd
[ "$(fingerprint)" = "$fp" ] || fail "the certificate changed on restart"
[ "$(served_fingerprint 17380)" = "$fp" ] || fail "a different certificate is served after restart"
req GET $user/health
expect 200 "/health after restart"
ok "restart keeps the certificate (same fingerprint)"

# IPv6: the user interface on [::1] (loopback only, as every test).
run 0 pmx --user config set httpd.user_listen "[::1]:17381"
run 0 pmx --user restart httpd
run 0 pmx --user status --json httpd
[ "$(json_get 'j[0]["daemon"]["listen"]')" = "$admin (admin), https://[::1]:17381 (user)" ] || fail "listen: $out"
req GET "https://[::1]:17381/"
expect 200 "GET / on [::1]:17381"
[[ "$body" == *"/assets/user.js"* ]] || fail "[::1] did not serve user.html"
run 0 pmx --user config unset httpd.user_listen
ok "IPv6 listen address [::1]:17381 (Listen property, page served)"

# A port in use: the start fails naming the setting (exit 1: systemd tries again later).
run 0 pmx --user stop httpd
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the earlier requests left TIME_WAITs
s.bind(("127.0.0.1", 17381)); s.listen()
open(sys.argv[1], "w").close(); time.sleep(60)' "$work/blocking" & blocker=$!
for _ in $(seq 100); do [ -e "$work/blocking" ] && break; sleep 0.1; done
[ -e "$work/blocking" ] || fail "the blocker did not bind 17381"
run 1 pmx --user start httpd
contains 'httpd.user_listen = "127.0.0.1:17381"'
contains "Address already in use"
kill $blocker; wait $blocker 2>/dev/null || true
run 0 systemctl --user reset-failed pmx-httpd.service
run 0 pmx --user start httpd
run 0 pmx --user config get httpd.user_listen
[ "$out" = "127.0.0.1:17381" ] || fail "user_listen is $out"
req GET $user/health
expect 200 "/health once the port is free"
ok "a port in use: start fails naming httpd.user_listen; starts once it is free"

# Broken files: a clear start error naming the file; the files are left as they are.
run 0 pmx --user stop httpd
cp "$statedir/httpd-cert.pem" "$work/cert.pem"
cp "$statedir/httpd-key.pem" "$work/key.pem"
echo "not a certificate" > "$statedir/httpd-cert.pem"
run 1 pmx --user start httpd
contains "$statedir/httpd-cert.pem"
contains "not a PEM certificate"
[ "$(cat "$statedir/httpd-cert.pem")" = "not a certificate" ] || fail "the bad certificate was overwritten"
ok "a certificate that is not PEM: start fails naming the file"

cp "$work/cert.pem" "$statedir/httpd-cert.pem"
openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkey -out "$statedir/httpd-key.pem"
run 1 pmx --user start httpd
contains "$statedir/httpd-key.pem"
contains "does not belong to the certificate"
ok "a key that does not belong to the certificate: start fails naming the key"

rm "$statedir/httpd-key.pem"
run 1 pmx --user start httpd
contains "$statedir/httpd-key.pem: no such file"
ok "a certificate without its key: start fails, nothing is made"

cp "$work/key.pem" "$statedir/httpd-key.pem"
chmod 0600 "$statedir/httpd-key.pem"
run 0 systemctl --user reset-failed pmx-httpd.service
run 0 pmx --user start httpd
[ "$(served_fingerprint 17381)" = "$fp" ] || fail "restored pair not served"
ok "the restored pair starts again"

run 0 pmx --user stop httpd
echo "all $pass checks passed"
