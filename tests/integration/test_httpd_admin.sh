#!/bin/bash
# The admin JSON RPC methods through a real pmx-httpd against real daemons under the sandbox's
# systemd manager, with a real Postfix and pmx-milter: an administrator (a system account in
# pmx-admin, PAM) calls every admin method at least once and sees the effect with the CLI
# (service states, config values, jobs, queue entries, blocks, the message log, reports byte for
# byte after parsing, policy verdicts); an end user (user port) and a group admin without the
# rights are refused every one of them. Prints the latency of dashboard.summary and
# services.status (numbers only, no timed assertion).
# Ports (this test only): httpd 17386 (admin), 17387 (user); Postfix 2655, sink 2657; milter 17372.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postfix.sh"

src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${PMX_TEST_TMPDIR:-/tmp}/pmx-httpd-admin-XXXXXX")
chmod 0755 "$work"  # postfix daemons run as user postfix
pfx=$work/postfix
confdir=/usr/local/etc/pmx
statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
WEB_ADMIN_PORT=17386
WEB_USER_PORT=17387
source "$(dirname "$0")/web.sh"
mkdir -p $confdir "$statedir"

cat > $confdir/pmx.toml <<TOML
[milter]
socket = "inet:17372@127.0.0.1"

[queue]
relay = "127.0.0.1:2655"
spool_dir = "spool"
scan_interval_seconds = 1
retry_min_seconds = 1
retry_max_seconds = 2

[httpd]
admin_listen = "127.0.0.1:17386"
user_listen = "127.0.0.1:17387"
assets = "$src/share/web"
TOML
cp "$(dirname "$0")/fixtures/policy.toml" $confdir/policy.toml  # holds mail for carol@example.test

web_admin_account wadmin 'Adm1n-secret'
web_admin_account gadmin 'Gr0up-secret' -
run 0 pmx --user secret list
run 0 pmx --user start milter queued ipblockd httpd
ok "milter, queued, ipblockd and httpd started"

trap 'pfx_stop "$pfx"; rm -rf "$work"' EXIT
pfx_start_filtered "$pfx" 2655 2657

# rpc METHOD [PARAMS]: the admin's call; $out = the result (compact JSON), fails on any error.
rpc() {
  local body params=${2:-}
  [ -n "$params" ] || params='{}'
  body=$(web_rpc admin "$1" "$params") || fail "$1: HTTP status, body: $body"
  printf '%s' "$body" | jq -e 'has("result")' >/dev/null || fail "$1 $params: $body"
  out=$(printf '%s' "$body" | jq -c .result)
}
# rpc_error CODE REALM METHOD [PARAMS]: the call must fail with this JSON-RPC error code.
rpc_error() {
  local code=$1 realm=$2 body params=${4:-}
  [ -n "$params" ] || params='{}'
  body=$(web_rpc "$realm" "$3" "$params") || fail "$3: HTTP status, body: $body"
  [ "$(printf '%s' "$body" | jq -r '.error.code // "none"')" = "$code" ] || fail "$3 $params ($realm): expected error $code, got $body"
  out=$body
}
jq_out() { printf '%s' "$out" | jq -r "$1"; }
ms_now() { echo $(( $(date +%s%N) / 1000000 )); }

web_login admin wadmin 'Adm1n-secret' || fail "admin sign-in: $web_status $out"
[ "$(jq_out .who.kind)" = admin ] || fail "wadmin is not an admin: $out"
ok "wadmin signs in on the admin port as an administrator"

## dashboard and services ---------------------------------------------------------------------
rpc dashboard.summary
for k in services mail queue quarantine job_failures; do
  [ "$(jq_out "has(\"$k\")")" = true ] || fail "dashboard.summary lacks $k: $out"
done
[ "$(jq_out '.errors | length')" = 0 ] || fail "dashboard.summary parts failed: $out"
[ "$(jq_out '[.services[] | select(.id == "milter")][0].active_state')" = active ] || fail "dashboard: milter $out"
[ "$(jq_out .quarantine.held)" = 0 ] || fail "dashboard: held $out"
[ "$(jq_out '.job_failures | length')" = 0 ] || fail "dashboard: job failures before any run: $out"
ok "dashboard.summary: services, mail, queue, quarantine, job failures"

rpc services.status
[ "$(jq_out '[.[] | select(.id == "ipblockd")][0].active_state')" = active ] || fail "services.status: $out"
rpc services.stop '{"service":"ipblockd"}'
[ "$(jq_out '.services[0].active_state')" = inactive ] || fail "services.stop: $out"
run 3 pmx --user status --json ipblockd
[ "$(json_get 'j[0]["active_state"]')" = inactive ] || fail "ipblockd still runs: $out"
rpc services.start '{"service":"ipblock"}'
[ "$(jq_out '.services[0].active_state')" = active ] || fail "services.start: $out"
run 0 pmx --user status --json ipblockd
rpc services.restart '{"service":"milter"}'
[ "$(jq_out '.services[0].active_state')" = active ] || fail "services.restart: $out"
rpc_error -32602 admin services.stop '{"service":"httpd"}'
rpc_error -32602 admin services.start '{"service":"sendmail"}'
ok "services.stop/start/restart change the state pmx status shows; httpd cannot stop itself; unknown services refused"

## config --------------------------------------------------------------------------------------
rpc config.set '{"key":"milter.max_recipients","value":123}'
[ "$(jq_out .setting.value)" = 123 ] || fail "config.set: $out"
run 0 pmx --user config get milter.max_recipients
[ "$out" = 123 ] || fail "pmx config get after config.set: $out"
rpc config.show '{"changed":true}'
[ "$(jq_out '[.[] | select(.key == "milter.max_recipients")][0].value')" = 123 ] || fail "config.show: $out"
rpc_error -32602 admin config.set '{"key":"milter.max_recipients","value":"lots"}'
rpc_error -32602 admin config.set '{"key":"no.such_key","value":"1"}'
rpc config.unset '{"key":"milter.max_recipients"}'
run 0 pmx --user config get milter.max_recipients
[ "$out" != 123 ] || fail "config.unset left the value"
for i in $(seq 30); do
  journalctl --no-pager -q 2>/dev/null | grep -qF 'wadmin (admin) runs: pmx config set -- milter.max_recipients 123' && break
  [ "$i" = 30 ] && fail "the journal does not say who changed milter.max_recipients"
  sleep 0.2
done
ok "config.set is what pmx config get reads (and the journal says who set it); config.show, config.unset; bad values refused"

## jobs and the Scheduler ----------------------------------------------------------------------
rpc jobs.list
[ "$(jq_out '[.jobs[].name] | index("db-check") != null')" = true ] || fail "jobs.list: $out"
rpc jobs.disable '{"name":"db-check"}'
[ "$(jq_out .job.enabled)" = false ] || fail "jobs.disable: $out"
run 0 pmx --user jobs list --json
[ "$(json_get '[x for x in j["jobs"] if x["name"] == "db-check"][0]["enabled"]')" = False ] || fail "CLI: still enabled"
rpc jobs.enable '{"name":"db-check"}'
[ "$(jq_out .job.enabled)" = true ] || fail "jobs.enable: $out"
rpc jobs.set_schedule '{"name":"db-check","schedule":["Sun *-*-* 03:30"]}'
[ "$(jq_out '.job.schedule[0]')" = "Sun *-*-* 03:30" ] || fail "jobs.set_schedule: $out"
rpc_error -32602 admin jobs.set_schedule '{"name":"db-check","schedule":"-1"}'
rpc jobs.run '{"name":"db-check"}'
[ "$(jq_out .ok)" = true ] || fail "jobs.run: $out"
rpc_error -32002 admin jobs.run '{"name":"no-such-job"}'
run 0 pmx --user jobs add web-broken --at daily --command "pmx config get no.such_key"
rpc jobs.run '{"name":"web-broken"}'
[ "$(jq_out .ok)" = false ] || fail "jobs.run of a failing job: $out"
rpc dashboard.summary
failures=$(jq_out '[.job_failures[].name] | sort | join(",")')
run 0 pmx --user jobs list --json
[ "$failures" = "$(json_get '",".join(sorted(x["name"] for x in j["jobs"] if x["failed"]))')" ] && [ "$failures" = web-broken ] \
  || fail "dashboard job failures '$failures' vs pmx jobs list: $out"
rpc scheduler.start
[ "$(jq_out .scheduler.state)" = active ] || fail "scheduler.start: $out"
rpc scheduler.status
[ "$(jq_out .state)" = active ] || fail "scheduler.status: $out"
rpc scheduler.stop
[ "$(jq_out .scheduler.state)" = inactive ] || fail "scheduler.stop: $out"
ok "jobs.disable/enable/set_schedule/run (a failed run is ok:false and in the dashboard as in pmx jobs list), scheduler.start/status/stop"

## queue -------------------------------------------------------------------------------------
rpc services.stop '{"service":"queued"}'
printf 'From: a@example.test\r\nTo: q@example.test\r\nSubject: queued\r\n\r\nheld in the spool\r\n' > "$work/q.eml"
run 0 pmx --user queue submit --from a@example.test --to q@example.test "$work/q.eml"
entry=$out
rpc queue.list
[ "$(jq_out "[.[] | select(.id == \"$entry\")] | length")" = 1 ] || fail "queue.list lacks $entry: $out"
rpc queue.show "{\"id\":\"$entry\"}"
[ "$(jq_out '.recipients[0].address')" = q@example.test ] || fail "queue.show: $out"
rpc queue.retry "{\"ids\":[\"$entry\"]}"
[ "$(jq_out '.[0].id')" = "$entry" ] || fail "queue.retry: $out"
rpc queue.delete "{\"ids\":[\"$entry\"]}"
[ "$(jq_out '.[0].ok')" = true ] || fail "queue.delete: $out"
run 0 pmx --user queue list --json
[ "$out" = "[]" ] || fail "queue not empty after queue.delete: $out"
rpc_error -32002 admin queue.show "{\"id\":\"$entry\"}"
rpc services.start '{"service":"queued"}'
rpc queue.flush
[ "$(jq_out 'has("made_due")')" = true ] || fail "queue.flush: $out"
ok "queue.list/show/retry/delete on a spool entry (pmx queue list agrees), queue.flush"

## ipblock -----------------------------------------------------------------------------------
rpc ipblock.add '{"address":"192.0.2.77","ttl":"2h","reason":"web test"}'
[ "$(jq_out .network)" = 192.0.2.77 ] || fail "ipblock.add: $out"
rpc ipblock.list
[ "$(jq_out '[.[] | select(.network == "192.0.2.77")][0].reason')" = "web test" ] || fail "ipblock.list: $out"
run 0 pmx --user ipblock list --json
[ "$(json_get '[x["network"] for x in j]')" = "['192.0.2.77']" ] || fail "CLI blocks: $out"
rpc ipblock.remove '{"address":"192.0.2.77"}'
rpc_error -32002 admin ipblock.remove '{"address":"192.0.2.77"}'
rpc_error -32602 admin ipblock.add '{"address":"--all"}'
ok "ipblock.add/list/remove as pmx ipblock list sees them"

## the message log, reports, policy ------------------------------------------------------------
word="webadmin$RANDOM"
out=$(swaks --server 127.0.0.1 --port 2655 --from "$word@example.test" --to bob@example.test \
            --header "Subject: pmx admin test" --body "hello" 2>&1) || true
contains "250 2.0.0 Ok: queued"
pfx_wait_queue_empty "$pfx" 20 || fail "postfix queue did not drain"
rpc log.search "{\"sender\":\"$word\",\"since\":\"-1h\",\"limit\":10}"
[ "$(jq_out length)" = 1 ] || fail "log.search: $out"
[ "$(jq_out '.[0].recipients[0].verdict')" = accept ] || fail "log.search verdict: $out"
rpc dashboard.summary
[ "$(jq_out '.mail.last_hour.messages >= 1 and .mail.last_hour.accepted >= 1 and .mail.last_day.messages >= 1')" = true ] \
  || fail "the dashboard does not count the message of a moment ago: $out"
ok "log.search finds the message sent through Postfix; the dashboard counts it at once"

run 0 pmx --user report consolidate
rpc reports.list
[ "$(jq_out '[.[].name] | index("verdicts") != null')" = true ] || fail "reports.list: $out"
for args in 'verdicts' 'top-senders --from -1d'; do
  set -- $args
  params=$(jq -cn --arg n "$1" --arg f "${3:-}" '{name: $n} + (if $f == "" then {} else {from: $f} end)')
  rpc reports.get "$params"
  web=$(printf '%s' "$out" | jq -S .)
  run 0 pmx --user report $args --json
  cli=$(printf '%s' "$out" | jq -S .)
  [ "$web" = "$cli" ] || fail "reports.get $args differs from pmx report: $web vs $cli"
done
[ "$(printf '%s' "$cli" | jq -r '.[0].sender')" = "$word@example.test" ] || fail "top-senders: $cli"
rpc dashboard.summary
day=$(jq_out .mail.last_day.messages)
run 0 pmx --user report verdicts --from -1d --json
[ "$day" = "$(json_get 'sum(r["messages"] for r in j)')" ] && [ "$day" -ge 1 ] || fail "dashboard last_day $day vs $out"
ok "reports.list; reports.get equals pmx report NAME --json; the dashboard's mail counts are the report's"

rpc policy.show
[ "$(jq_out .rules)" -ge 1 ] && [ "$(jq_out '.text | contains("hold for carol")')" = true ] || fail "policy.show: $out"
msg=$(printf 'From: a@example.test\r\nTo: carol@example.test, bob@example.test\r\nSubject: t\r\n\r\nhi\r\n')
rpc policy.test "$(jq -cn --arg m "$msg" '{message: $m, client_ip: "192.0.2.1"}')"
[ "$(jq_out '[.recipients[] | select(.recipient == "carol@example.test")][0].outcome')" = quarantine ] || fail "policy.test: $out"
[ "$(jq_out '[.recipients[] | select(.recipient == "bob@example.test")][0].outcome')" = accept ] || fail "policy.test bob: $out"
ok "policy.show (rules and text), policy.test: carol's copy quarantined, bob's accepted"

## refusals ------------------------------------------------------------------------------------
methods="dashboard.summary services.status services.start services.stop services.restart config.show config.set
  config.unset jobs.list jobs.enable jobs.disable jobs.run jobs.set_schedule scheduler.start scheduler.stop
  scheduler.status queue.list queue.show queue.flush queue.retry queue.delete ipblock.list ipblock.add ipblock.remove
  log.search reports.list reports.get policy.show policy.test"
rpc groups.save '{"name":"helpdesk","members":["gadmin"],"items":[{"pattern":"@example.test","rights":["quarantine","lists"]}]}'
rpc web_users.set_password '{"address":"bob@example.test","password":"B0b-secret-pw"}'
web_login user bob@example.test 'B0b-secret-pw' || fail "end user sign-in: $web_status $out"
gdir=$work/web-gadmin
mkdir -p "$gdir"
WEB_DIR=$gdir web_login admin gadmin 'Gr0up-secret' || fail "group admin sign-in: $web_status $out"
[ "$(jq_out .who.kind)" = group_admin ] || fail "gadmin is not a group admin: $out"
n=0
for m in $methods; do
  rpc_error -32601 user "$m"
  WEB_DIR=$gdir rpc_error -32001 admin "$m"
  n=$((n + 1))
done
[ "$n" = 29 ] || fail "expected 29 admin methods, checked $n"
ok "all $n admin methods: -32601 for an end user, -32001 for a group admin without the rights"

# With the rights reports and policy, a group admin gets the reports and tries the policy on mail
# for its own domain only; everything else stays refused.
rpc groups.save '{"name":"helpdesk","members":["gadmin"],"items":[{"pattern":"@example.test","rights":["quarantine","lists","reports","policy"]}]}'
WEB_DIR=$gdir web_login admin gadmin 'Gr0up-secret' || fail "group admin sign-in again: $web_status $out"
body=$(WEB_DIR=$gdir web_rpc admin reports.get '{"name":"verdicts"}')
run 0 pmx --user report verdicts --json
[ "$(printf '%s' "$body" | jq -S .result)" = "$(printf '%s' "$out" | jq -S .)" ] || fail "group admin reports.get: $body"
params=$(jq -cn --arg m "$msg" '{message: $m, recipients: ["carol@example.test"]}')
body=$(WEB_DIR=$gdir web_rpc admin policy.test "$params")
[ "$(printf '%s' "$body" | jq -r '.result.recipients[0].outcome')" = quarantine ] || fail "group admin policy.test: $body"
WEB_DIR=$gdir rpc_error -32001 admin policy.test "$(jq -cn --arg m "$msg" '{message: $m, recipients: ["x@elsewhere.test"]}')"
WEB_DIR=$gdir rpc_error -32001 admin log.search
WEB_DIR=$gdir rpc_error -32001 admin config.show
ok "a group admin with the rights reports and policy: reports.get as the CLI, policy.test in scope only, the rest refused"

## latency (numbers for the report, no assertion) -----------------------------------------------
# curl's own total time of the HTTPS request, and the CLI command alone for comparison.
rpc_time() {
  curl -k -sS -o /dev/null -w '%{time_total}' -b "$(web_jar admin)" -H "X-PMX-CSRF: $(cat "$WEB_DIR/csrf-admin")" \
       -H 'Content-Type: application/json' --data-binary "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\"}" \
       https://127.0.0.1:$WEB_ADMIN_PORT/rpc
}
for m in dashboard.summary services.status; do
  times=
  for i in 1 2 3 4 5; do times="$times $(rpc_time "$m")"; done
  echo "# latency $m (s, curl time_total, 5 calls):$times"
done
times=
for i in 1 2 3 4 5; do t0=$(ms_now); pmx --user --json status >/dev/null || true; times="$times $(( $(ms_now) - t0 ))"; done
echo "# for comparison: pmx --user --json status alone (ms):$times"
echo "# load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "all $pass checks passed"
