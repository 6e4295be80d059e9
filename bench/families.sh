#!/usr/bin/env bash
# tinyedge's speed and memory against llama.cpp on the real shapes of the model families (random weights), on this
# machine: the synth presets qwen2.5-0.5b (qwen2), llama-3.2-1b (Llama 3) and gemma-3-1b (gemma3).
#
#   bench/families.sh [--repeat N] [--threads "2"] [--type q4_0] [--presets "qwen2.5-0.5b llama-3.2-1b gemma-3-1b"]
#
# Writes bench/models/PRESET-TYPE.gguf with `bin/tinyedge synth` when missing (0.3 to 0.7 GB each at Q4_0), then runs
# tinyedge and llama.cpp with only its icelake CPU variant (AVX-512 VNNI, no AMX; bench/run.sh explains the choice) on
# each, N times, one process per run, interleaved. Prompt 128 tokens, 128 generated. Prints one Markdown table of
# medians (bench/report.mjs, as bench/run.sh does) and writes it to its own section of bench/RESULTS.md. Build
# tinyedge first (`mvn -DskipTests package -pl deploy -am`); tests/node/install.sh must have run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

repeat=3
threads="2"
type=q4_0
presets="qwen2.5-0.5b llama-3.2-1b gemma-3-1b"
prompt_tokens=128
gen_tokens=128

say() { echo "bench/families.sh: $*" >&2; }
usage() { say "usage: bench/families.sh [--repeat N] [--threads \"2\"] [--type q4_0] [--presets \"...\"]"; exit 2; }

while (( $# )); do
    case "$1" in
        --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; repeat=$2; shift 2 ;;
        --threads) [[ "${2:-}" =~ ^[1-9][0-9\ ]*$ ]] || usage; threads=$2; shift 2 ;;
        --type) [[ -n "${2:-}" ]] || usage; type=$2; shift 2 ;;
        --presets) [[ -n "${2:-}" ]] || usage; presets=$2; shift 2 ;;
        *) usage ;;
    esac
done

work=bench/target/families
mkdir -p "$work" bench/models
runs=$work/runs.jsonl
bandwidth=$work/bandwidth.jsonl
: > "$runs"
: > "$bandwidth"

tests/node/install.sh --cpu-variant icelake bench/node/icelake

models=()
for preset in $presets; do
    model=bench/models/$preset-$type.gguf
    if [[ ! -f "$model" ]]; then
        say "writing $model (bin/tinyedge synth)"
        bin/tinyedge synth "$model" --preset "$preset" --type "$type"
    fi
    models+=("$preset=$model")
done

gcc -O3 -march=native -fopenmp bench/bandwidth.c -o "$work/bandwidth"
for t in $threads; do
    OMP_NUM_THREADS=$t "$work/bandwidth" >> "$bandwidth"
done

# Adds the model, the engine and the thread count to one JSON result read from stdin, and appends it to the runs.
record() {
    node -e '
        let text = "";
        process.stdin.on("data", d => text += d).on("end", () => {
            const [model, engine, threads] = process.argv.slice(1);
            console.log(JSON.stringify({ ...JSON.parse(text), model, engine, threads: Number(threads) }));
        });' "$1" "$2" "$3" >> "$runs"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= repeat; r++)); do
    for entry in "${models[@]}"; do
        name=${entry%%=*} model=${entry#*=}
        for t in $threads; do
            say "run $r/$repeat: $name, $t thread(s)"
            bin/tinyedge bench --model "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                | record "$name" "tinyedge" "$t"
            node tests/node/oracle.mjs bench "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                --kv-type F16 --llama-dir bench/node/icelake | record "$name" "llama.cpp no-AMX" "$t"
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(node bench/report.mjs "$runs" "$bandwidth" "${models[@]}")
{
    echo "## Model families: tinyedge vs llama.cpp"
    echo
    echo "Written by \`bench/families.sh --repeat $repeat --threads \"$threads\" --type $type\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB;" \
        "load average $load_before before, $load_after after. Medians of $repeat runs, one process per run;" \
        "prompt $prompt_tokens tokens, $gen_tokens generated."
    echo
    echo "$table"
    echo
    echo "- Models: \`bin/tinyedge synth --preset P --type $type\`: each model's real shapes (SyntheticModel), random" \
        "weights, every matrix $type, the family's real tokenizer."
    echo "- llama.cpp: node-llama-cpp 3.21.1's CPU build with only libggml-cpu-icelake.so, F16 KV cache (tinyedge: f32)," \
        "flash attention as llama.cpp chooses. Other columns as in bench/run.sh's table."
} > "$work/speed.md"
bench/write-section.py bench/families.sh "$work/speed.md"
echo "$table"
say "wrote bench/RESULTS.md"
