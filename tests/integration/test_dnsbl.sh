#!/bin/bash
# DNS blocklists against a real DNS server on loopback: dnsmasq serves the test zones zen.test
# (client addresses) and dbl.test (URI domains) from tests/integration/dnsbl/hosts, and forwards
# slow.test to a UDP socket that never answers. `pmx spam dnsbl-check` runs the lookups exactly
# as pmx-milter does (lib/spam/dnsbl); no daemon is needed.
source "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
confdir=/usr/local/etc/pmx
mkdir -p $confdir
work=$(mktemp -d /tmp/pmx-dnsbl-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# A black hole: takes queries on 15354 and never answers (a zone whose servers drop them).
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 15354))
open("'"$work"'/blackhole.ready", "w").close(); time.sleep(600)' &
pids+=($!)
dnsmasq --no-daemon --conf-file=/dev/null --pid-file= --port=15353 --listen-address=127.0.0.1 \
  --bind-interfaces --no-resolv --no-hosts --addn-hosts="$here/dnsbl/hosts" --local-ttl=60 \
  --local=/zen.test/ --local=/dbl.test/ --server=/slow.test/127.0.0.1#15354 >"$work/dnsmasq.log" 2>&1 &
pids+=($!)

cat > $confdir/pmx.toml <<'EOF'
[dnsbl]
nameservers = ["127.0.0.1:15353"]
timeout_ms = 1500
ip_zones = ["zen.test=127.0.0.2:SBL:3.0,127.0.0.4-127.0.0.7:XBL:2.5,any:ZEN:0.1"]
uri_zones = ["dbl.test=127.0.1.2:DBL:2.5,127.0.1.3:DBL_PHISH:4"]
EOF

# Both servers up (this machine is shared and slow to start python).
for _ in $(seq 100); do
  if [ -e "$work/blackhole.ready" ] && pmx spam dnsbl-check --client 127.0.0.2 --json 2>/dev/null | grep -q RCVD_IN_SBL; then
    break
  fi
  sleep 0.1
done
[ -e "$work/blackhole.ready" ] || fail "the black-hole DNS socket did not start"
ok "dnsmasq serves the test zones on 127.0.0.1:15353"

run 0 pmx spam dnsbl-check --client 127.0.0.2 --json
[ "$(json_get '[(h["name"], h["score"]) for h in j["hits"]]')" = "[('RCVD_IN_SBL', 3), ('RCVD_IN_XBL', 2.5), ('RCVD_IN_ZEN', 0.1)]" ] \
  || fail "listed client: wrong hits: $out"
[ "$(json_get 'j["hits"][0]["description"]')" = "client 127.0.0.2 listed in zen.test (127.0.0.2: SBL)" ] \
  || fail "listed client: wrong description: $out"
[ "$(json_get 'j["score"]')" = 5.6 ] || fail "listed client: score is not 5.6: $out"
[ "$(json_get 'j["lookups"][0]["query"]')" = 2.0.0.127.zen.test ] || fail "wrong query name: $out"
ok "listed client 127.0.0.2: RCVD_IN_SBL 3, RCVD_IN_XBL 2.5 (two answer codes), RCVD_IN_ZEN 0.1"

run 0 pmx spam dnsbl-check --client 127.0.0.3 --json
[ "$(json_get '(len(j["hits"]), j["lookups"][0]["status"])')" = "(0, 'not_listed')" ] || fail "unlisted client: $out"
ok "unlisted client 127.0.0.3: no hit (NXDOMAIN)"

run 0 pmx spam dnsbl-check --client ::1 --json
[ "$(json_get '[h["name"] for h in j["hits"]]')" = "['RCVD_IN_SBL', 'RCVD_IN_ZEN']" ] || fail "IPv6 client: $out"
ok "IPv6 client ::1 is looked up by nibbles and listed"

run 0 pmx spam dnsbl-check --client 127.0.0.9 --json
[ "$(json_get '(len(j["hits"]), j["lookups"][0]["status"], j["lookups"][0]["answers"])')" = "(0, 'listed', ['127.255.255.254'])" ] \
  || fail "error code answer: $out"
ok "an answer of 127.255.255.254 (a blocklist's error code) matches no rule, not even 'any'"

run 0 pmx spam dnsbl-check --uri-host www.EVIL.test --uri-host evil.test --uri-host good.test \
  --uri-host phish.good.test --uri-host 192.0.2.7 --json
[ "$(json_get '[(h["name"], h["score"]) for h in j["hits"]]')" = "[('URIBL_DBL', 2.5), ('URIBL_DBL_PHISH', 4)]" ] \
  || fail "URI hosts: wrong hits: $out"
[ "$(json_get 'j["hits"][0]["description"]')" = "URI host evil.test listed in dbl.test (127.0.1.2: DBL)" ] \
  || fail "URI hosts: wrong description: $out"
[ "$(json_get 'sorted(l["query"] for l in j["lookups"])')" = \
  "['7.2.0.192.dbl.test', 'evil.test.dbl.test', 'good.test.dbl.test', 'phish.good.test.dbl.test', 'www.evil.test.dbl.test']" ] \
  || fail "URI hosts: wrong queries (registered domain + host, each once): $out"
[ "$(json_get '[l["rules"] for l in j["lookups"] if l["query"] == "7.2.0.192.dbl.test"][0]')" = "['URIBL_DBL']" ] \
  || fail "URI IP literal not listed: $out"
ok "URI hosts: evil.test listed via www.EVIL.test (counted once), phish.good.test by full host, IP literal reversed"

run 0 pmx spam dnsbl-check --client 127.0.0.2 --uri-host evil.test
contains "RCVD_IN_SBL"
contains "URIBL_DBL"
contains "listed 127.0.0.2,127.0.0.4"
contains "score 8"
ok "human output: one row per lookup, the hits and the score"

# A zone whose server never answers: the listed zone still scores, the dead one is dropped at the deadline.
start=$(date +%s%N)
run 0 pmx spam dnsbl-check --client 127.0.0.2 --timeout 800 --json \
  --ip-zone 'zen.test=127.0.0.2:SBL:3.0' --ip-zone 'slow.test=any:SLOW:9'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(json_get '[h["name"] for h in j["hits"]]')" = "['RCVD_IN_SBL']" ] || fail "dead zone: wrong hits: $out"
[ "$(json_get '[l["status"] for l in j["lookups"]]')" = "['listed', 'timeout']" ] || fail "dead zone: statuses: $out"
elapsed=$(json_get 'j["elapsed_ms"]')
[ "$elapsed" -ge 700 ] && [ "$elapsed" -le 1000 ] || fail "dead zone: lookups took $elapsed ms for an 800 ms deadline"
[ "$ms" -lt 5000 ] || fail "dead zone: the command took $ms ms"
ok "a zone that never answers: dropped at the 800 ms deadline (lookups $elapsed ms), the other zone's hit kept"

start=$(date +%s%N)
run 0 pmx spam dnsbl-check --client 127.0.0.2 --uri-host evil.test --nameserver 127.0.0.1:15354 --timeout 600 --json
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(json_get '(len(j["hits"]), sorted(set(l["status"] for l in j["lookups"])))')" = "(0, ['timeout'])" ] \
  || fail "silent nameserver: $out"
elapsed=$(json_get 'j["elapsed_ms"]')
[ "$elapsed" -le 800 ] && [ "$ms" -lt 5000 ] || fail "silent nameserver: $elapsed ms (wall $ms ms) for a 600 ms deadline"
ok "a nameserver that drops every query: no hit, back after $elapsed ms (deadline 600 ms)"

run 0 pmx spam dnsbl-check --client 127.0.0.2 --nameserver 127.0.0.1:15355 --timeout 600 --json
[ "$(json_get '(len(j["hits"]), j["lookups"][0]["status"])')" = "(0, 'error')" ] || fail "closed port: $out"
ok "a nameserver port where nothing listens: an error, no hit"

# Mistakes: config entries name file, line, key and entry; usage errors exit 2.
cat > $confdir/pmx.toml <<'EOF'
[dnsbl]
nameservers = ["127.0.0.1:15353"]
ip_zones = ["zen.test=127.0.0.2:SBL"]
EOF
run 1 pmx spam dnsbl-check --client 127.0.0.2
contains "$confdir/pmx.toml:3:"
contains 'dnsbl.ip_zones: entry "zen.test=127.0.0.2:SBL"'
contains "LABEL or SCORE is missing"
ok "a bad zone entry: the error names file, line, key and entry"

run 2 pmx spam dnsbl-check
contains "--client"
run 2 pmx spam dnsbl-check --client 999.1.1.1 --ip-zone 'zen.test=any:Z:1'
contains "not an IP address"
run 2 pmx spam dnsbl-check --client 127.0.0.2 --ip-zone 'zen.test=127.0.0.2:SBL:x'
contains 'SCORE "x" is not a number'
ok "usage errors exit 2 with a reason"

rm -f $confdir/pmx.toml
run 1 pmx spam dnsbl-check --client 127.0.0.2
contains "No IP blocklists"
ok "no zones configured: says where to configure them"

echo "all $pass checks passed"
