#!/bin/bash
# pmx's rules engine against SpamAssassin itself, on the same messages and the same rule files
# (Debian's /usr/share/spamassassin plus /etc/spamassassin), network tests off, Bayes off.
#
#   bench/spamassassin-compare.sh [MESSAGES] [BUILD_DIR]
#
# PMX_BENCH_KEEP=1 keeps the per-message hit lists (sa.tsv, pmx.tsv) for a closer look.
# Prints, per message set: the agreement of rule hits (per rule hit, over all messages: hits both
# report / hits either reports) for regex rules, for every rule, and messages per second of pmx
# (one thread, parse + rules) against spamd+spamc (SpamAssassin's daemon, one client at a time)
# and the spamassassin command on a small sample. Needs root to install spamassassin if missing.
set -euo pipefail

N=${1:-300}
BUILD=${2:-build}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${PMX_CORPUS:-/work/shared/corpus}
PORT=${PMX_BENCH_SPAMD_PORT:-7830}
BIN=$HERE/$BUILD/bench/pmx-bench-rules
SA_RULES=/usr/share/spamassassin

if ! command -v spamd >/dev/null || [ ! -d "$SA_RULES" ]; then
  echo "Installing Debian's spamassassin..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y spamassassin spamd spamc >/dev/null
fi
if [ ! -x "$BIN" ]; then
  echo "Building pmx-bench-rules in $BUILD..." >&2
  ninja -C "$HERE/$BUILD" bench/pmx-bench-rules >/dev/null
fi

WORK=$(mktemp -d /tmp/pmx-sa-compare.XXXXXX)
SPAMD_PID=
cleanup() {
  if [ -n "$SPAMD_PID" ]; then kill "$SPAMD_PID" 2>/dev/null || true; fi
  if [ -n "${PMX_BENCH_KEEP:-}" ]; then echo "kept $WORK (sa.tsv, pmx.tsv, rules.tsv)" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# Messages: half ham, half spam, spread evenly over the SpamAssassin public corpus.
pick() {  # DIR COUNT
  local files=("$1"/*.eml) n=${#files[@]} step
  step=$(( n / $2 )); [ "$step" -ge 1 ] || step=1
  for ((i = 0; i < n && i / step < $2; i += step)); do echo "${files[$i]}"; done
}
{ pick "$CORPUS/spamassassin-public/ham" $((N / 2)); pick "$CORPUS/spamassassin-public/spam" $((N - N / 2)); } > "$WORK/files"
COUNT=$(wc -l < "$WORK/files")

# SpamAssassin's site config: Debian's plugins (*.pre) and site rules, Bayes off.
mkdir -p "$WORK/site"
cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$WORK/site/" 2>/dev/null || true
printf 'use_bayes 0\nbayes_auto_learn 0\n' > "$WORK/site/zz_pmx_bench.cf"
chmod -R a+rX "$WORK"  # spamd's children run as nobody when started by root

echo "== $COUNT messages (ham and spam, $CORPUS/spamassassin-public); rules: $SA_RULES + Debian site config; network off, Bayes off"

# ---- SpamAssassin: spamd + spamc ----
spamd -L --siteconfigpath="$WORK/site" --nouser-config -i "127.0.0.1:$PORT" -A 127.0.0.1 -m 1 \
  --min-spare=1 --max-spare=1 -s stderr -r "$WORK/spamd.pid" 2>"$WORK/spamd.log" &
SPAMD_PID=$!
for _ in $(seq 1 600); do
  if grep -q "server started" "$WORK/spamd.log"; then break; fi
  if ! kill -0 "$SPAMD_PID" 2>/dev/null; then echo "spamd failed:" >&2; cat "$WORK/spamd.log" >&2; exit 1; fi
  sleep 0.5
done
# warm up (first message compiles and caches)
head -1 "$WORK/files" | while read -r f; do spamc -d 127.0.0.1 -p "$PORT" -y < "$f" >/dev/null; done
start=$(date +%s%N)
while read -r f; do
  printf '%s\t%s\n' "$f" "$(spamc -d 127.0.0.1 -p "$PORT" -y < "$f" | tr -d ' \n')"
done < "$WORK/files" > "$WORK/sa.tsv"
end=$(date +%s%N)
SA_SECONDS=$(( (end - start) / 1000000 ))  # ms
kill "$SPAMD_PID" 2>/dev/null || true; wait "$SPAMD_PID" 2>/dev/null || true; SPAMD_PID=

# ---- spamassassin command, a small sample (each run loads every rule again) ----
SAMPLE=10
start=$(date +%s%N)
head -$SAMPLE "$WORK/files" | while read -r f; do
  spamassassin -L --siteconfigpath="$WORK/site" -t < "$f" >/dev/null 2>&1
done
end=$(date +%s%N)
SACMD_SECONDS=$(( (end - start) / 1000000 ))

# ---- pmx ----
mkdir -p "$WORK/cache"
"$BIN" --list-rules --cache "$WORK/cache" --rules "$SA_RULES" --rules "$WORK/site" > "$WORK/rules.tsv" 2>/dev/null
start=$(date +%s%N)
xargs -a "$WORK/files" -d '\n' "$BIN" --cache "$WORK/cache" --rules "$SA_RULES" --rules "$WORK/site" \
  > "$WORK/pmx.tsv" 2> "$WORK/pmx.log"
end=$(date +%s%N)
PMX_WALL=$(( (end - start) / 1000000 ))
# check() alone, several passes for a steadier number
xargs -a "$WORK/files" -d '\n' "$BIN" --quiet --repeat 5 --cache "$WORK/cache" --rules "$SA_RULES" --rules "$WORK/site" \
  2> "$WORK/pmx-repeat.log" >/dev/null
cat "$WORK/pmx.log" | head -1

python3 - "$WORK" "$COUNT" "$SA_SECONDS" "$SACMD_SECONDS" "$SAMPLE" "$PMX_WALL" <<'EOF'
import re, sys
work, count, sample = sys.argv[1], int(sys.argv[2]), int(sys.argv[5])
sa_s, sacmd_s, pmx_wall = (float(sys.argv[i]) / 1000 for i in (3, 4, 6))
def load(p):
    d = {}
    for line in open(p, encoding='utf-8', errors='replace'):
        f, _, tests = line.rstrip('\n').partition('\t')
        d[f] = set(t for t in tests.split(',') if t)
    return d
sa, pmx = load(f'{work}/sa.tsv'), load(f'{work}/pmx.tsv')
kind = {}
for line in open(f'{work}/rules.tsv'):
    name, typ, ev = line.rstrip('\n').split('\t')[:3]
    kind[name] = 'eval' if ev == '1' else typ
def agree(pred):
    both = either = 0
    miss, extra = {}, {}
    for f in sa:
        a = {t for t in sa[f] if pred(t)}
        b = {t for t in pmx.get(f, set()) if pred(t)}
        both += len(a & b); either += len(a | b)
        for t in a - b: miss[t] = miss.get(t, 0) + 1
        for t in b - a: extra[t] = extra.get(t, 0) + 1
    return both, either, miss, extra
regex = lambda t: kind.get(t) in ('header', 'body', 'rawbody', 'full', 'uri', 'mimeheader')
rows = [('regex rules (header/body/rawbody/full/uri/mimeheader)', regex),
        ('meta rules', lambda t: kind.get(t) == 'meta'),
        ('every rule pmx can run', lambda t: t in kind),
        ('every rule SpamAssassin reported', lambda t: True)]
for label, pred in rows:
    both, either, miss, extra = agree(pred)
    print(f'agreement, {label}: {both}/{either} = {100.0 * both / max(either, 1):.2f}%')
    if pred is regex:
        top = sorted(((n, 'SA only', t) for t, n in miss.items()), reverse=True)[:8] + \
              sorted(((n, 'pmx only', t) for t, n in extra.items()), reverse=True)[:8]
        for n, side, t in top: print(f'    {side:8s} {t} x{n}')
check = re.search(r'([0-9.]+) msg/s', open(f'{work}/pmx-repeat.log').read().splitlines()[-1])
pmx_rate = float(check.group(1)) if check else 0
sa_rate = count / sa_s
print(f'spamd+spamc: {sa_rate:.1f} msg/s ({count} messages in {sa_s:.1f} s, one client)')
print(f'spamassassin -t: {sample / sacmd_s:.2f} msg/s ({sample} messages in {sacmd_s:.1f} s, one process each)')
print(f'pmx rules engine: {pmx_rate:.1f} msg/s (parse + rules, one thread, cached databases); '
      f'whole run with loading: {count / pmx_wall:.1f} msg/s')
print(f'speed ratio pmx / spamd: {pmx_rate / sa_rate:.1f}x')
EOF
