#!/bin/bash
# The inside of bench/av-throughput.sh (runs in the sandbox).
set -euo pipefail
count=$1
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/integration/postfix.sh"

fx=/usr/local/share/pmx-av-bench
python3 "$src/tests/integration/av/make-fixtures.py" "$fx" >/dev/null
mkdir -p /usr/local/etc/pmx
cat > /usr/local/etc/pmx/pmx.toml <<TOML
[milter]
socket = "inet:17361@127.0.0.1"
[av]
enabled = false
database_dir = "$fx/db"
TOML
pmx --user enable >/dev/null
pmx --user start >/dev/null
sock=$(pmx --user av status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["socket"])')
pid=$(systemctl --user show -p MainPID --value pmx-avd.service)
rss() { awk '/^VmRSS/ {print $2 / 1024 " MiB"}' "/proc/$1/status"; }
echo "pmx-avd RSS after loading the test database: $(rss "$pid")"

echo "== scans/s straight to pmx-avd (4 KiB messages, each unique: no clean-cache hits)"
python3 "$src/bench/av-scan-rate.py" "$sock" 3000

work=$(mktemp -d /tmp/pmx-bench-av-pfx-XXXXXX)
chmod 0755 "$work"
PFX_SINK_DUMP=0 pfx_start "$work/pfx" 2535 2536 >/dev/null
trap 'pfx_stop "$work/pfx"' EXIT
pmx mta postfix --apply -c "$work/pfx/etc" >/dev/null
script -qec "postfix -c $work/pfx/etc reload" /dev/null >/dev/null
sleep 2

run_once() {  # SIZE: COUNT messages over 20 sessions, until delivered
  local size=$1 start end
  start=$(date +%s.%N)
  smtp-source -s 20 -m "$count" -l "$size" -f sender@example.test -t rcpt@example.test 127.0.0.1:2535
  pfx_wait_queue_empty "$work/pfx" 300 || { echo "queue did not drain" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v n="$count" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", n / (b - a) }'
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

echo "== milter throughput through Postfix, av.enabled off vs on ($count messages, 20 sessions)"
printf '%-8s %12s %12s %8s %16s\n' size av_off_msg_s av_on_msg_s ratio avd_cpu_ms/msg
for size in 4096 102400; do
  pmx --user config set av.enabled false >/dev/null
  off=$(run_once "$size")
  pmx --user config set av.enabled true >/dev/null
  c0=$(cpu "$pid")
  on=$(run_once "$size")
  c1=$(cpu "$pid")
  ms=$(awk -v a="$c0" -v b="$c1" -v n="$count" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / n }')
  printf '%-8s %12.1f %12.1f %8.2f %16s\n' "$size" "$off" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN { print a / b }')" "$ms"
done
echo "pmx-avd RSS after the runs: $(rss "$pid")"
pmx --user av status | grep -E "Scans|Signatures"
busctl --user get-property org.pmx.Milter1 /org/pmx/Daemon1 org.pmx.Daemon1 Counters
