#!/bin/bash
# The inside of bench/milter-throughput.sh (runs in the sandbox).
set -euo pipefail
count=$1
src=$(cd "$(dirname "$0")/.." && pwd)
source "$src/tests/integration/postfix.sh"

mkdir -p /usr/local/etc/pmx
printf '[milter]\nsocket = "inet:17357@127.0.0.1"\n' > /usr/local/etc/pmx/pmx.toml
pmx --user enable >/dev/null
pmx --user start >/dev/null

work=$(mktemp -d /tmp/pmx-bench-pfx-XXXXXX)
chmod 0755 "$work"
PFX_SINK_DUMP=0 pfx_start "$work/pfx" 2525 2526 >/dev/null
trap 'pfx_stop "$work/pfx"' EXIT

# One timed run: inject COUNT messages of SIZE bytes over 20 sessions, wait until delivered.
run_once() {
  local size=$1 start end
  start=$(date +%s.%N)
  smtp-source -s 20 -m "$count" -l "$size" -f sender@example.test -t rcpt@example.test 127.0.0.1:2525
  pfx_wait_queue_empty "$work/pfx" 300 || { echo "queue did not drain" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v n="$count" -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", n / (b - a) }'
}

set_milter() {  # on|off
  if [ "$1" = on ]; then
    pmx mta postfix --apply -c "$work/pfx/etc" >/dev/null
  else
    postconf -c "$work/pfx/etc" -e smtpd_milters= non_smtpd_milters=
  fi
  script -qec "postfix -c $work/pfx/etc reload" /dev/null >/dev/null
  sleep 2
}

printf '%-8s %12s %12s %8s %16s\n' size bare_msg_s pmx_msg_s ratio milter_cpu_ms/msg
for size in 4096 102400; do
  set_milter off; bare=$(run_once $size)
  pid=$(systemctl --user show -p MainPID --value pmx-milter.service)
  cpu0=$(awk '{print $14 + $15}' /proc/$pid/stat)
  set_milter on; with=$(run_once $size)
  cpu1=$(awk '{print $14 + $15}' /proc/$pid/stat)
  milter_ms=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$count" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (b - a) * 1000 / hz / n }')
  printf '%-8s %12.1f %12.1f %8.2f %16s\n' "$size" "$bare" "$with" "$(awk -v a="$with" -v b="$bare" 'BEGIN { print a / b }')" "$milter_ms"
done
busctl --user get-property org.pmx.Milter1 /org/pmx/Daemon1 org.pmx.Daemon1 Counters
