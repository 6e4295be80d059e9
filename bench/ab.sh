#!/usr/bin/env bash
# Before/after: this working tree's tinyedge against another revision's, on the same model, alternating run by
# run so that the machine's slow and fast moments fall on both. Prints each run and the medians.
#
#   bench/ab.sh REVISION [--rounds N] [--threads "1 2"] [--model FILE] [--prompt-tokens N] [--gen-tokens N]
#
# REVISION is built in a git worktree under bench/target/ab/ (kept for the next comparison). Build this tree first
# (`mvn -B -DskipTests package -pl deploy -am`, or bench/run.sh). On a shared machine only ratios within one run
# mean something; use several rounds.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "bench/ab.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { die "usage: bench/ab.sh REVISION [--rounds N] [--threads \"1 2\"] [--model FILE] [--prompt-tokens N] [--gen-tokens N]"; }

(( $# )) || usage
revision=$1
shift
rounds=4
threads="1 2"
model=bench/models/tinyllama-q4_0.gguf
prompt_tokens=128
gen_tokens=64
while (( $# )); do
    case "$1" in
        --rounds) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; rounds=$2; shift 2 ;;
        --threads) [[ "${2:-}" =~ ^[1-9][0-9\ ]*$ ]] || usage; threads=$2; shift 2 ;;
        --model) [[ -f "${2:-}" ]] || die "no model file ${2:-}"; model=$2; shift 2 ;;
        --prompt-tokens) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; prompt_tokens=$2; shift 2 ;;
        --gen-tokens) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; gen_tokens=$2; shift 2 ;;
        *) usage ;;
    esac
done
commit=$(git rev-parse --verify --quiet "$revision^{commit}") || die "no such revision: $revision"
[[ -d deploy/target/lib ]] || die "build this tree first: mvn -B -DskipTests package -pl deploy -am"
[[ -f "$model" ]] || die "no model $model (bench/run.sh writes it)"
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")

other=bench/target/ab/${commit:0:12}
if [[ ! -d "$other/deploy/target/lib" ]]; then
    say "building $revision (${commit:0:12}) in $other"
    rm -rf "$other"
    git worktree prune
    git worktree add --detach "$other" "$commit" >/dev/null
    (cd "$other" && mvn -q -B -DskipTests package -pl deploy -am)
fi

runs=$(mktemp)
trap 'rm -f "$runs"' EXIT
for ((r = 1; r <= rounds; r++)); do
    for t in $threads; do
        for side in before after; do
            dir=$root
            [[ $side == before ]] && dir=$root/$other
            result=$("$dir/bin/tinyedge" bench --model "$model" --threads "$t" --prompt-tokens "$prompt_tokens" \
                --gen-tokens "$gen_tokens" 2>/dev/null | tail -1)
            prefill=$(sed -n 's/.*"prefill_tok_s":\([0-9.]*\).*/\1/p' <<< "$result")
            decode=$(sed -n 's/.*"decode_tok_s":\([0-9.]*\).*/\1/p' <<< "$result")
            [[ -n "$prefill" && -n "$decode" ]] || die "$side ($dir) did not print a result"
            echo "$side $t $prefill $decode" | tee -a "$runs"
        done
    done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
echo
echo "medians of $rounds rounds: before = $revision (${commit:0:12}), after = this tree; $(basename "$model"), prompt $prompt_tokens, $gen_tokens generated"
for t in $threads; do
    for column in 3 4; do
        name=prefill
        (( column == 4 )) && name=decode
        before=$(awk -v t="$t" -v c="$column" '$1 == "before" && $2 == t { print $c }' "$runs" | median)
        after=$(awk -v t="$t" -v c="$column" '$1 == "after" && $2 == t { print $c }' "$runs" | median)
        awk -v t="$t" -v n="$name" -v b="$before" -v a="$after" \
            'BEGIN { printf "%d thread(s) %-7s %8.2f -> %8.2f tok/s  (%.2fx)\n", t, n, b, a, a / b }'
    done
done
