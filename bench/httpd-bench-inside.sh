#!/bin/bash
# Inside the sandbox (see httpd-bench.sh): pmx-httpd alone on 17390 (admin) / 17391 (user).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
seconds=$1
source "$src/tests/integration/lib.sh"
mkdir -p /usr/local/etc/pmx
cat > /usr/local/etc/pmx/pmx.toml <<'TOML'
[httpd]
admin_listen = "127.0.0.1:17390"
user_listen = "127.0.0.1:17391"
TOML
WEB_ADMIN_PORT=17390 WEB_USER_PORT=17391
source "$src/tests/integration/web.sh"
web_admin_account benchadmin "bench-admin-password"
mkdir -p "${XDG_CONFIG_HOME:-$HOME/.config}/pmx"  # the user manager's StateDirectory
pmx --user secret list >/dev/null
pmx --user web user passwd bob@example.test --password-stdin <<< "bench-bob-password" >/dev/null
pmx --user start httpd >/dev/null
for _ in $(seq 100); do curl -ksf https://127.0.0.1:17391/health >/dev/null 2>&1 && break; sleep 0.1; done

python3 - "$seconds" <<'PY'
import http.client, json, ssl, sys, time
seconds = float(sys.argv[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE

def login(port, name, password):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    c.request("POST", "/api/login", json.dumps({"name": name, "password": password}),
              {"Content-Type": "application/json"})
    r = c.getresponse(); body = json.loads(r.read())
    if r.status != 200: sys.exit(f"sign-in of {name} failed: {r.status} {body}")
    cookie = r.getheader("Set-Cookie").split(";")[0]
    return c, {"Cookie": cookie, "X-PMX-CSRF": body["csrf"], "Content-Type": "application/json"}

def rate(conn, method, path, body=None, headers={}):
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        conn.request(method, path, body, headers)
        r = conn.getresponse(); r.read()
        if r.status != 200: sys.exit(f"{method} {path}: HTTP {r.status}")
        n += 1
    return n / (time.monotonic() - start)

user, uh = login(17391, "bob@example.test", "bench-bob-password")
admin, ah = login(17390, "benchadmin", "bench-admin-password")
rpc = lambda m, p={}: json.dumps({"jsonrpc": "2.0", "id": 1, "method": m, "params": p})
base = rate(user, "GET", "/health")
cases = [
    ("GET /health (baseline)", base),
    ("rpc session.whoami (session lookup)", rate(user, "POST", "/rpc", rpc("session.whoami"), uh)),
    ("rpc quarantine.search as an end user", rate(user, "POST", "/rpc", rpc("quarantine.search"), uh)),
    ("GET /assets/pmx.css", rate(user, "GET", "/assets/pmx.css")),
    ("rpc services.status (runs pmx status)", rate(admin, "POST", "/rpc", rpc("services.status"), ah)),
    ("rpc dashboard.summary", rate(admin, "POST", "/rpc", rpc("dashboard.summary"), ah)),
]
print(f"{'case':<42} {'req/s':>9} {'vs /health':>11}")
for name, r in cases:
    print(f"{name:<42} {r:9.1f} {r / base:11.3f}")
PY
pmx --user stop httpd >/dev/null
