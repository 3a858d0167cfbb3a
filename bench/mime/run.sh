#!/bin/bash
# MIME parser throughput: parse_message() on a 100 KiB text+HTML message and on a 10 MiB one with
# a 9 MiB base64 attachment, in MB/s, beside a baseline that only finds the line ends of the
# same bytes (same run, same machine, same load); also iconv_open() against a cached converter.
#   bench/mime/run.sh [SECONDS-PER-CASE]        (default 1; needs only g++)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/pmx-bench-mime-XXXXXX)
trap 'rm -rf "$out"' EXIT
g++ -std=c++20 -O2 -DNDEBUG -I"$src/lib" "$src/bench/mime/mime_bench.cpp" "$src"/lib/mail/*.cpp -o "$out/pmx-bench-mime"
"$out/pmx-bench-mime" "${1:-1}"
