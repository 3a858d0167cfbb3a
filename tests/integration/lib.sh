# Shared helpers for integration tests (sourced). Each check prints what it checked;
# the first failure stops the test with the command's output.
set -euo pipefail

pass=0
ok() { pass=$((pass + 1)); printf 'ok %d - %s\n' "$pass" "$*"; }
fail() {
  printf 'not ok - %s\n' "$*" >&2
  # The sandbox's journal says what the daemons thought of it.
  command -v journalctl >/dev/null && journalctl --no-pager -q -n 25 -o short-precise 2>/dev/null | sed 's/^/  journal: /' >&2
  exit 1
}

# run EXPECTED_STATUS CMD...: runs CMD, captures stdout+stderr in $out, checks the exit status.
run() {
  local expected=$1; shift
  set +e
  out=$("$@" 2>&1)
  status=$?
  set -e
  if [ "$status" -ne "$expected" ]; then
    printf '%s\n' "$out" >&2
    fail "'$*' exited $status, expected $expected"
  fi
}

# contains TEXT: $out must contain TEXT.
contains() {
  case "$out" in
    *"$1"*) ;;
    *) printf '%s\n' "$out" >&2; fail "output lacks: $1";;
  esac
}
lacks() {
  case "$out" in
    *"$1"*) printf '%s\n' "$out" >&2; fail "output has: $1";;
    *) ;;
  esac
}

# json_get EXPR: evaluates a Python expression over the JSON in $out (bound to j).
json_get() { printf '%s' "$out" | python3 -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
