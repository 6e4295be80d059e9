#!/usr/bin/env bash
# Continuous batching, measured: `bin/tinyedge serve` (TinyLlama-1.1B-shaped Q4_0 model, random weights, 2 threads,
# [service] parallel = 8) behind a real Mosquitto, driven by 1, 2, 4 and 8 concurrent clients that each send their
# translation requests one after another (streamed, 64 generated tokens each: tests/.../BatchingBench.java); next
# to llama.cpp decoding 1, 2, 4 and 8 sequences of one context on the same file (node-llama-cpp 3.21.1, only the
# no-AMX icelake CPU variant, F16 KV cache, 2 threads: tests/node/oracle.mjs bench --sequences N).
#
#   bench/batching.sh [--requests N] [--reuse-llama]
#
# --requests N: requests per client (default 2), after one warm-up request. --reuse-llama: keep llama.cpp's
# results of the previous run (bench/target/batching/llama.jsonl) instead of measuring them again; the table says
# when they were measured.
#
# Prints one Markdown table and writes it with the setup to bench/RESULTS.md (between the bench/batching.sh
# markers). Columns: aggregate generated tokens per second over the whole run (tinyedge: wall time from the first
# request sent to the last reply, prompts and MQTT included; llama.cpp: all sequences' decode steps, and in
# brackets prefill included), per-request latency and time to first token (p50 / p99), and the ratios the issue
# asks for. Then, in one process without MQTT (bench/BatchStep.java), the time of one decode step of the forward
# pass with 1, 2, 4 and 8 sequences, sizes alternated: what batching does to a step. Needs JDK 25, Maven, Node.js,
# Mosquitto; about 10 minutes on a 2-core machine.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "bench/batching.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

requests=2
reuse_llama=false
usage="usage: bench/batching.sh [--requests N] [--reuse-llama]"
while (( $# )); do
    case "$1" in
        --requests) [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "$usage"; requests=$2; shift 2 ;;
        --reuse-llama) reuse_llama=true; shift ;;
        *) die "$usage" ;;
    esac
done
clients_list="1 2 4 8"
threads=2
gen_tokens=64
prompt_tokens=64 # llama.cpp's prompt per sequence: about a translation request's (instructions + text)

if [[ -z "${JAVA_HOME:-}" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"25'; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        [[ -x "$candidate/bin/javac" ]] && { JAVA_HOME=$candidate; break; }
    done
fi
[[ -x "${JAVA_HOME:-}/bin/javac" ]] || die "no JDK 25 found: set JAVA_HOME"
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
command -v mosquitto >/dev/null || die "mosquitto not found (apt-get install mosquitto, or run tests/run.sh once)"

work=bench/target/batching
mkdir -p "$work" bench/models
say "building bin/tinyedge's jars and the client"
mvn -B -q -ntp -DskipTests package -pl deploy -am >&2
deploy/aot-cache.sh deploy/target/tinyedge.aot >/dev/null
mvn -B -q -ntp -pl tests -am test-compile dependency:build-classpath -Dtinyedge.fuzzTargets=none \
    -Dmdep.outputFile="$root/$work/classpath.txt" -Dmdep.includeScope=test >&2
"$JAVA_HOME/bin/javac" -d "$work/classes" -cp "deploy/target/lib/*" --add-modules jdk.incubator.vector bench/BatchStep.java
tests/node/install.sh
tests/node/install.sh --cpu-variant icelake bench/node/icelake

model=bench/models/tinyllama-q4_0.gguf
if [[ ! -f "$model" ]]; then
    say "writing $model (bin/tinyedge synth)"
    bin/tinyedge synth "$model" --preset tinyllama-1.1b --type q4_0
fi

# --- Mosquitto and the daemon --------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$work/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 1000
EOF
prefix=bench$$
cat > "$work/serve.toml" <<EOF
node = "bench"
model = "$root/$model"
threads = $threads
context = 512

[mqtt]
broker = "tcp://127.0.0.1:$port"
client_id = "tinyedge-batching-bench"
topic_prefix = "$prefix"

[service]
parallel = 8
max_tokens = $gen_tokens
request_timeout_s = 600
EOF
pids=()
cleanup() {
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
pids+=($!)
bin/tinyedge serve --config "$work/serve.toml" > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 600); do
    grep -q "serving " "$work/serve.log" && break
    kill -0 "${pids[1]}" 2>/dev/null || { tail -20 "$work/serve.log" >&2; die "the daemon exited"; }
    sleep 0.1
done
grep -q "serving " "$work/serve.log" || die "the daemon did not start serving within 60 s"
say "$(grep -m1 -o 'model .* at once' "$work/serve.log")"

client() { # CLIENTS REQUESTS
    (cd tests && "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
        -cp "target/test-classes:$root/edge-runtime/target/test-classes:$root/edge-runtime/target/classes:$(cat "$root/$work/classpath.txt")" \
        dev.tinyedge.service.BatchingBench "tcp://127.0.0.1:$port" "$prefix" "$1" "$2" "$gen_tokens" 2>>"$root/$work/client.log")
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
say "warm-up request"
client 1 1 > /dev/null
: > "$work/tinyedge.jsonl"
for n in $clients_list; do
    say "tinyedge: $n client(s), $requests request(s) each"
    client "$n" "$requests" | tee -a "$work/tinyedge.jsonl" >&2
done
cleanup
pids=()
say "one decode step in process, 1/2/4/8 sequences"
step=$("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    --sun-misc-unsafe-memory-access=allow -XX:+UseSerialGC -Dtinyedge.native.dir="$root/kernels-native/target/native" \
    -cp "$work/classes:deploy/target/lib/*" BatchStep "$model" "$threads" 15 2>/dev/null)
say "$step"

if $reuse_llama; then
    [[ -s "$work/llama.jsonl" ]] || die "--reuse-llama: no $work/llama.jsonl from an earlier run"
    llama_when="measured $(date -u -r "$work/llama.jsonl" '+%Y-%m-%d %H:%M UTC') by an earlier run (--reuse-llama)"
else
    llama_when="measured in this run"
    : > "$work/llama.jsonl"
fi
$reuse_llama || for n in $clients_list; do
    say "llama.cpp: $n sequence(s)"
    node tests/node/oracle.mjs bench "$model" --threads "$threads" --prompt-tokens "$prompt_tokens" \
        --gen-tokens "$gen_tokens" --kv-type F16 --sequences "$n" --llama-dir bench/node/icelake \
        | tee -a "$work/llama.jsonl" >&2
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

table=$(node -e '
    const fs = require("fs");
    const read = f => fs.readFileSync(f, "utf8").trim().split("\n").map(l => JSON.parse(l));
    const te = read(process.argv[1]), ll = read(process.argv[2]);
    const one = te.find(r => r.clients === 1);
    const f = (x, d = 1) => x.toFixed(d);
    const rows = ["| clients | tinyedge tok/s | vs its 1 client | latency p50 / p99 | TTFT p50 / p99 | TTFT vs idle | later requests: TTFT p50, vs idle | llama.cpp tok/s decode (with prefill) | tinyedge ÷ llama.cpp decode |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"];
    for (const r of te) {
        const l = ll.find(x => x.sequences === r.clients);
        rows.push(`| ${r.clients} | ${f(r.aggregate_tok_s)} | ${f(r.aggregate_tok_s / one.aggregate_tok_s, 2)}× | `
            + `${f(r.latency_p50_ms / 1000, 2)} / ${f(r.latency_p99_ms / 1000, 2)} s | ${r.ttft_p50_ms} / ${r.ttft_p99_ms} ms | `
            + `${f(r.ttft_p50_ms / one.ttft_p50_ms, 2)}× | ${r.later_ttft_p50_ms} ms, `
            + `${f(r.later_ttft_p50_ms / one.later_ttft_p50_ms, 2)}× | ${f(l.decode_tok_s)} (${f(l.total_tok_s)}) | `
            + `${f(r.aggregate_tok_s / l.decode_tok_s, 2)}× |`);
    }
    console.log(rows.join("\n"));' "$work/tinyedge.jsonl" "$work/llama.jsonl")

section=$(mktemp)
{
    echo "## Continuous batching: N clients at once"
    echo
    echo "Written by \`bench/batching.sh --requests $requests$($reuse_llama && echo " --reuse-llama")\` on $started. Machine: $(lscpu | sed -n 's/^Model name: *//p'),"
    echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, shared with other jobs (builds, fuzzing): load average"
    echo "$load_before before, $load_after after. One run: the numbers are noisy."
    echo
    echo "$table"
    echo
    echo "- tinyedge: \`bin/tinyedge serve\` with \`[service] parallel = 8\`, $threads threads, context 512, f32 KV cache, on"
    echo "  \`bin/tinyedge synth --preset tinyllama-1.1b --type q4_0\` (TinyLlama-1.1B's shapes, random weights, Llama-2"
    echo "  vocabulary), Mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p') on"
    echo "  127.0.0.1. N clients (tests/src/test/java/dev/tinyedge/service/BatchingBench.java) each send $requests streamed"
    echo "  requests one after another (after one warm-up request), max_tokens $gen_tokens; tok/s counts the tokens the"
    echo "  replies report over the wall time from the first request to the last reply. TTFT: request sent to first"
    echo "  partial reply; \"later requests\": each client's requests after its first, which arrive one by one at a"
    echo "  board busy with the others' (the first ones arrive all at once, and their prompts queue behind each other)."
    echo "  Requests end early at an end-of-turn token or a stop string, which random weights rarely emit."
    echo "- llama.cpp: node-llama-cpp 3.21.1, only libggml-cpu-icelake.so (no AMX), F16 KV cache, $threads threads, one"
    echo "  context with N sequences, each a $prompt_tokens-token prompt then $gen_tokens greedy tokens, their steps batched"
    echo "  by node-llama-cpp (tests/node/oracle.mjs bench --sequences N): decode tok/s after every prompt is in, and in"
    echo "  brackets over the whole run; $llama_when."
    echo "- One decode step of the forward pass in one process (bench/BatchStep.java, median of 15 alternated rounds):"
    node -e '
        const s = JSON.parse(process.argv[1]);
        console.log("  " + [1, 2, 4, 8].map(n => `${n} sequence${n > 1 ? "s" : ""} ${s["step_ms_" + n]} ms`
            + ` (${s["tok_s_" + n].toFixed(1)} tok/s)`).join(", ") + ".");' "$step"
} > "$section"
bench/write-section.py bench/batching.sh "$section"
rm -f "$section"
echo "$table"
say "wrote bench/RESULTS.md"
