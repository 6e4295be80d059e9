#!/usr/bin/env bash
# tinyedge's speed against llama.cpp on TinyLlama-1.1B-shaped models (random weights, exact shapes), on this machine.
#
#   bench/run.sh [--repeat N] [--threads "1 2"] [--types "q4_0 q8_0 q4_k_m"] [--gen-tokens N]
#
# Builds tinyedge; writes bench/models/tinyllama-TYPE.gguf with `bin/tinyedge synth` when missing (q4_k_m is
# llama.cpp's Q4_K_M recipe: Q4_K with Q6_K for the output head and half of attn_v/ffn_down); installs
# llama.cpp (node-llama-cpp's CPU build) twice: as shipped, where ggml picks its best CPU variant (AMX on Sapphire
# Rapids, which repacks Q4_0/Q8_0 weights into buffers of its own), and with only the icelake variant (AVX-512 VNNI,
# no AMX), the fair comparison for a runtime that reads the weights in place; measures memory bandwidth; then runs
# every engine N times per model and thread count, one process per run, interleaved so that a busy moment of the
# machine hits all engines alike: tinyedge with its native kernels (the default) and with the Vector API ones
# (-Dtinyedge.kernels=java), llama.cpp no-AMX and as shipped. Then launch to first token (`generate -n 1` on the
# q4_0 model, wall time of the whole process) with either kernels. Prints one Markdown table of medians and
# writes it with the setup to bench/RESULTS.md. Prompt 128 tokens, 128 generated.
#
# The machine must be otherwise idle: llama.cpp's threads spin while they wait for each other, and any other load
# on these two cores distorts every number. The load average is recorded with the results.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

repeat=3
threads="1 2"
types="q4_0 q8_0 q4_k_m"
prompt_tokens=128
gen_tokens=128

say() { echo "bench/run.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }
usage() { die "usage: bench/run.sh [--repeat N] [--threads \"1 2\"] [--types \"q4_0 q8_0 q4_k_m\"] [--gen-tokens N]"; }

while (( $# )); do
    case "$1" in
        --repeat) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; repeat=$2; shift 2 ;;
        --threads) [[ "${2:-}" =~ ^[1-9][0-9\ ]*$ ]] || usage; threads=$2; shift 2 ;;
        --types) [[ -n "${2:-}" ]] || usage; types=$2; shift 2 ;;
        --gen-tokens) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || usage; gen_tokens=$2; shift 2 ;;
        *) usage ;;
    esac
done

work=bench/target
mkdir -p "$work" bench/models
runs=$work/runs.jsonl
bandwidth=$work/bandwidth.jsonl
: > "$runs"
: > "$bandwidth"

# --- tinyedge --------------------------------------------------------------------------------------------
jdk=
for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
    if [[ -n "$candidate" && -x "$candidate/bin/javac" ]] \
        && "$candidate/bin/java" -XshowSettings:properties -version 2>&1 | grep -q 'java.specification.version = [2-9][0-9]'; then
        jdk=$candidate
        break
    fi
done
[[ -n "$jdk" ]] || die "no JDK 25 found: install one or set JAVA_HOME"
export JAVA_HOME=$jdk
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
say "building tinyedge and its AOT cache"
mvn -q -B -DskipTests package -pl deploy -am
deploy/aot-cache.sh deploy/target/tinyedge.aot >/dev/null

# --- llama.cpp, as shipped and with only the no-AMX variant; the first also brings the Llama-2 vocabulary
# (llama-tokenizer-js) that synth puts into the models ------------------------------------------------------
tests/node/install.sh
tests/node/install.sh --cpu-variant icelake bench/node/icelake

models=()
for type in $types; do
    model=bench/models/tinyllama-$type.gguf
    if [[ ! -f "$model" ]]; then
        say "writing $model (bin/tinyedge synth)"
        bin/tinyedge synth "$model" --preset tinyllama-1.1b --type "$type"
    fi
    models+=("$type=$model")
done

# --- memory bandwidth ------------------------------------------------------------------------------------
gcc -O3 -march=native -fopenmp bench/bandwidth.c -o "$work/bandwidth"
for t in $threads; do
    say "measuring memory bandwidth with $t thread(s)"
    OMP_NUM_THREADS=$t "$work/bandwidth" >> "$bandwidth"
done

# --- the runs ----------------------------------------------------------------------------------------------
# Adds the model, the engine and the thread count asked for to one JSON result read from stdin, and appends it to
# the runs file.
record() {
    node -e '
        let text = "";
        process.stdin.on("data", d => text += d).on("end", () => {
            const [model, engine, threads] = process.argv.slice(1);
            console.log(JSON.stringify({ ...JSON.parse(text), model, engine, threads: Number(threads) }));
        });' "$1" "$2" "$3" >> "$runs"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v avg="${load_before%% *}" -v cores="$(nproc)" 'BEGIN { exit !(avg > cores / 2) }' \
    && say "warning: load average $load_before on $(nproc) cores: other work is running, the numbers will be low and noisy"
for ((r = 1; r <= repeat; r++)); do
    for entry in "${models[@]}"; do
        name=${entry%%=*} model=${entry#*=}
        for t in $threads; do
            say "run $r/$repeat: $name, $t thread(s)"
            bin/tinyedge bench --model "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                | record "$name" "tinyedge" "$t"
            TINYEDGE_JAVA_OPTS=-Dtinyedge.kernels=java \
                bin/tinyedge bench --model "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                | record "$name" "tinyedge java" "$t"
            node tests/node/oracle.mjs bench "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                --kv-type F16 --llama-dir bench/node/icelake | record "$name" "llama.cpp no-AMX" "$t"
            node tests/node/oracle.mjs bench "$model" --threads "$t" --prompt-tokens "$prompt_tokens" --gen-tokens "$gen_tokens" \
                --kv-type F16 | record "$name" "llama.cpp as shipped" "$t"
        done
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# --- launch to first token: the whole process, JVM start to the first generated token, alternating kernels --------
startup=$work/startup.txt
: > "$startup"
first_model=${models[0]#*=}
for ((r = 1; r <= 3 * repeat; r++)); do
    for kernels in native java; do
        started=$(date +%s.%N)
        TINYEDGE_JAVA_OPTS=-Dtinyedge.kernels=$kernels bin/tinyedge generate --model "$first_model" --prompt "Hello" -n 1 \
            --threads "${threads##* }" >/dev/null 2>&1
        echo "$kernels $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')" >> "$startup"
    done
done
startup_line=$(awk '{ t[$1] = t[$1] " " $2 } END { for (k in t) print k, t[k] }' "$startup" | sort | while read -r k values; do
    echo "$k $(echo $values | tr ' ' '\n' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }') s"
done | paste -sd, | sed 's/,/, /g')

# --- the table -----------------------------------------------------------------------------------------------
table=$(node bench/report.mjs "$runs" "$bandwidth" "${models[@]}")
default_variant=$(node -e 'const seen = new Set(); for (const l of require("fs").readFileSync(process.argv[1], "utf8").split("\n"))
    if (l.includes("as shipped")) seen.add(JSON.parse(l).cpu_backend); console.log([...seen].join(", "))' "$runs")
{
    echo "## CPU speed: tinyedge vs llama.cpp"
    echo
    echo "Written by \`bench/run.sh --repeat $repeat --threads \"$threads\" --types \"$types\"\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB;" \
        "load average $load_before before, $load_after after. Medians of $repeat runs, one process per run;" \
        "prompt $prompt_tokens tokens, $gen_tokens generated."
    echo
    echo "$table"
    echo
    echo "- Launch to first token (\`bin/tinyedge generate --model ${models[0]%%=*} --prompt Hello -n 1\`, whole process," \
        "${threads##* } thread(s), median of $((3 * repeat))), by kernels: $startup_line."
    echo "- kernels: what computed the products — tinyedge's native tier or Vector API width (from its log), llama.cpp's ggml CPU variant."
    echo "- Models: \`bin/tinyedge synth --preset tinyllama-1.1b\` (TinyLlama-1.1B's shapes, random weights)."
    echo "- tinyedge: \`bin/tinyedge bench\`, Java $("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | cut -d'"' -f2)."
    echo "- llama.cpp: node-llama-cpp 3.21.1's CPU build through tests/node/oracle.mjs, F16 KV cache, flash attention" \
        "as llama.cpp chooses. \"no-AMX\" keeps only libggml-cpu-icelake.so; \"as shipped\" loaded $default_variant."
    echo "- Bandwidth limit: read bandwidth (bench/bandwidth.c, same thread count) ÷ weight bytes read per token."
    echo "- Peak RSS: VmHWM of the process. llama.cpp's includes node (about 90 MB before the model loads) and, in both" \
        "variants, the copy of the weights that ggml's CPU_REPACK makes at load in an interleaved layout (Q4_0 as" \
        "q4_0_8x8: 555 MiB for TinyLlama) on top of the mapped file."
} > "$work/speed.md"
bench/write-section.py bench/run.sh "$work/speed.md"
echo "$table"
say "wrote bench/RESULTS.md"
