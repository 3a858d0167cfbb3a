#!/bin/bash
# Report consolidation benchmark (see bench/README.md): `pmx report consolidate` over N
# synthetic message-log rows (30 days, 1-2 recipients each, 5000 senders, 2000 relays, 50
# rules, some spam and viruses), against a baseline measured in the same run: one plain SQL
# pass over the same rows and their recipients (what any consolidation must read at least).
# Then the incremental run (only the open hours) and a few reports over the whole range.
#   bench/report-bench.sh [--rows N] [--dir DIR]     (default 1000000, /var/tmp)
#   BUILD=build-foo bench/report-bench.sh            (default build dir: build)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/${BUILD:-build}
rows=1000000 dir=/var/tmp
while [ $# -gt 0 ]; do
  case $1 in
    --rows) rows=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    *) echo "usage: $0 [--rows N] [--dir DIR]" >&2; exit 2 ;;
  esac
done
pmx=$build/cli/pmx
[ -x "$pmx" ] || { echo "no $pmx: build first" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "needs the sqlite3 shell (apt-get install sqlite3)" >&2; exit 1; }
work=$(mktemp -d "$dir/pmx-report-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/etc"
printf '[database]\npath = "%s/pmx.db"\n' "$work" > "$work/etc/pmx.toml"
export PMX_CONFIG_DIR=$work/etc PMX_VENDOR_DIR=$src/share
"$pmx" log --limit 1 >/dev/null   # creates the database at the latest schema

now_us=$(($(date +%s) * 1000000))
start_us=$((now_us - 30 * 86400 * 1000000))
step=$(( (now_us - start_us) / rows ))
echo "filling $rows message-log rows over 30 days..."
sqlite3 "$work/pmx.db" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $rows)
INSERT INTO message_log (id, time_us, queue_id, client_ip, sender, size, score, rules, elapsed_us, node)
SELECT i, $start_us + i * $step, printf('Q%d', i), printf('198.51.%d.%d', (i * 7) % 8, (i * 13) % 250),
       printf('user%d@sender%d.test', i % 5000, i % 97), 2000 + (i * 31) % 50000,
       (i % 10) * 1.5, printf('RULE_%d,RULE_%d', i % 50, (i * 3) % 50), 1000 + i % 9000, 'mx1'
FROM n;
INSERT INTO message_log_recipient (log_id, position, recipient, verdict, rule, detail)
SELECT id, 0, printf('rcpt%d@example.test', id % 10000),
       CASE WHEN id % 50 = 0 THEN 'reject' WHEN id % 10 = 9 THEN 'quarantine' ELSE 'accept' END, '',
       CASE WHEN id % 50 = 0 THEN printf('550 5.7.1 Message contains a virus (Test.Virus-%d)', id % 7)
            WHEN id % 10 = 9 THEN 'spam' ELSE '' END
FROM message_log;
INSERT INTO message_log_recipient (log_id, position, recipient, verdict)
SELECT id, 1, printf('rcpt%d@example.test', (id * 7) % 10000), 'accept' FROM message_log WHERE id % 3 = 0;
COMMIT;
SQL

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
t=$(date +%s%N)
sqlite3 "$work/pmx.db" "SELECT count(*), sum(l.size), count(DISTINCT l.sender) FROM message_log l LEFT JOIN message_log_recipient r ON r.log_id = l.id WHERE l.time_us >= 0" >/dev/null
base=$(ms "$t")
t=$(date +%s%N)
out=$("$pmx" report consolidate --json)
full=$(ms "$t")
t=$(date +%s%N)
"$pmx" report consolidate --json >/dev/null
incr=$(ms "$t")
t=$(date +%s%N)
"$pmx" report verdicts --by day --from -31d --json >/dev/null
"$pmx" report top-senders --from -31d --json >/dev/null
"$pmx" report top-spam-relays --from -31d --by day --json >/dev/null
rep=$(ms "$t")
echo "consolidate: $out"
printf 'baseline: one SQL pass over %d rows and their recipients   %6d ms\n' "$rows" "$base"
printf 'pmx report consolidate, first run (all 30 days)              %6d ms  (%.1fx baseline)\n' "$full" "$(echo "$full / $base" | bc -l)"
printf 'pmx report consolidate, next run (open hours only)           %6d ms\n' "$incr"
printf '3 reports over 30 days (verdicts by day, top-senders hourly, top-spam-relays daily) %d ms\n' "$rep"
printf 'database: %s\n' "$(du -h "$work/pmx.db" | cut -f1)"
