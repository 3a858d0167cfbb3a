#!/bin/bash
# The inside of bench/queue-bench.sh (runs in the sandbox).
set -euo pipefail
count=$1
sink_port=2577
conf=/usr/local/etc/pmx
mkdir -p $conf
statedir=${XDG_CONFIG_HOME:-$HOME/.config}/pmx
spool=$statedir/spool
mkdir -p "$statedir"

smtp-sink -u postfix -c 127.0.0.1:$sink_port 1024 >/dev/null 2>&1 &
sink=$!
trap 'kill $sink 2>/dev/null || true' EXIT
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$sink_port) 2>/dev/null && break; sleep 0.1; done

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

# Baseline: smtp-source straight to the sink.
baseline() {
  local start end
  start=$(now)
  smtp-source -s 20 -m "$count" -l 4096 -f sender@example.test -t rcpt@example.test 127.0.0.1:$sink_port
  end=$(now)
  rate "$count" "$start" "$end"
}

# A 4 KiB message like smtp-source's.
msg=$(mktemp /tmp/pmx-queue-bench-XXXXXX.eml)
{ printf 'From: sender@example.test\nTo: rcpt@example.test\nSubject: queue bench\n\n'
  head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 76; printf '\n'; } > "$msg"

# Fill the spool once through `pmx queue submit` (8 at a time), keep a copy of it.
fill() {
  local start end
  pmx --user stop queued >/dev/null 2>&1 || true
  rm -rf "$spool"
  start=$(now)
  seq "$count" | xargs -P 8 -I{} pmx --user queue submit --from sender@example.test --to rcpt@example.test \
      --reference "bench {}" "$msg" >/dev/null
  end=$(now)
  rate "$count" "$start" "$end" > "$statedir/submit-rate"
  rm -rf "$statedir/filled"
  cp -a "$spool/incoming" "$statedir/filled"
}

# pmx-queued: start it on the filled spool, time until every entry is in sent.
queued() {
  local parallel=$1 start end
  printf '[queue]\nrelay = "127.0.0.1:%s"\nmax_parallel = %s\n' $sink_port "$parallel" > $conf/pmx.toml
  pmx --user stop queued >/dev/null 2>&1 || true
  rm -rf "$spool"
  mkdir -p "$spool"
  cp -a "$statedir/filled" "$spool/incoming"
  start=$(now)
  pmx --user start queued >/dev/null
  while [ "$(find "$spool/incoming" "$spool/active" "$spool/deferred" -type f 2>/dev/null | head -1)" ] ||
        [ "$(ls "$spool/sent" 2>/dev/null | wc -l)" -lt "$count" ]; do
    [ "$(ls "$spool/failed" 2>/dev/null | wc -l)" -gt 0 ] && { echo "deliveries failed" >&2; exit 1; }
    sleep 0.02
  done
  end=$(now)
  rate "$count" "$start" "$end"
}

pmx --user secret list >/dev/null
fill
base=$(baseline)
q20=$(queued 20)
q4=$(queued 4)
base2=$(baseline)
printf '%-34s %10s\n' "messages" "$count"
printf '%-34s %10s msg/s\n' "smtp-source -s 20 -> sink" "$base / $base2"
printf '%-34s %10s msg/s  ratio %.2f\n' "pmx-queued max_parallel=20 -> sink" "$q20" "$(awk -v a="$q20" -v b="$base" -v c="$base2" 'BEGIN{print a/((b+c)/2)}')"
printf '%-34s %10s msg/s  ratio %.2f\n' "pmx-queued max_parallel=4 -> sink" "$q4" "$(awk -v a="$q4" -v b="$base" -v c="$base2" 'BEGIN{print a/((b+c)/2)}')"
printf '%-34s %10s msg/s (one pmx process per message, 8 at once)\n' "pmx queue submit" "$(cat "$statedir/submit-rate")"
rm -f "$msg"
