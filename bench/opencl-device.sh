#!/usr/bin/env bash
# OpenCL decode on a lent GPU (the device machine: one NVIDIA H200), measured in one call of under 10 minutes.
#
#   bench/opencl-device.sh pack           on the development machine: builds what the device needs
#   bench/opencl-device.sh run [OPTIONS]  on the device machine (or here, with --dry-run, on PoCL)
#
# The device machine has no JDK, no Maven, no network, and NVIDIA's OpenCL driver without an ICD file. `pack`
# builds the jars, a jlinked Java 25 runtime and copies the ICD loader (libOpenCL.so.1 of Debian's
# ocl-icd-libopencl1) into bench/target/opencl-device/ (ignored; about 60 MB), then prints the device call:
#
#   run(command="bench/opencl-device.sh run 2>&1 | tee $OUT/opencl-device.log",
#       carry=["bench/target/opencl-device"], timeout_s=600)
#
# `run` registers libnvidia-opencl.so.1 in a private vendors folder (OCL_ICD_VENDORS), checks that tinyedge
# opens the GPU, synthesizes TinyLlama-1.1B-shaped models (random weights, exact shapes) and for each one runs
#   - DeviceBench: decode's matrix products alone, their inputs' rounding included (GB/s of weights read and % of
#     the copy kernel's bandwidth), the logits against the CPU backend, and the kernels that use optional
#     extensions against the portable ones; then again with the portable kernels and with each split in --lanes;
#   - tinyedge bench --backend opencl: whole-model prefill and decode tok/s, decode GB/s and % of the copy
#     kernel's bandwidth;
# and prints a Markdown table for bench/RESULTS.md (also written to $OUT/opencl-device.md when OUT is set).
# Every step has a time limit; anything missing stops the run with one line saying what.
#
# OPTIONS: --preset NAME (tinyllama-1.1b)  --types "q4_0 q8_0 q4_k_m"  --lanes "8 16" (extra splits to time)
#          --steps N (timed decode steps, 50)  --prompt-tokens N (128)  --gen-tokens N (128)  --repeat N (2)
#          --dry-run (any OpenCL device will do, e.g. PoCL on this machine's CPU)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
pack=bench/target/opencl-device
work=bench/target/opencl-device-run

say() { echo "bench/opencl-device.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

pack() {
    local jdk= candidate
    for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        if [[ -n "$candidate" && -x "$candidate/bin/jlink" ]]; then jdk=$candidate; break; fi
    done
    [[ -n "$jdk" ]] || die "no JDK 25 with jlink found: set JAVA_HOME"
    [[ $(uname -m) == x86_64 ]] || die "the device machine is x86-64: pack on an x86-64 machine"
    local loader=/usr/lib/x86_64-linux-gnu/libOpenCL.so.1
    [[ -e $loader ]] || die "no $loader: apt-get install ocl-icd-libopencl1"
    export JAVA_HOME=$jdk MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
    say "building the jars"
    mvn -q -B -DskipTests package -pl deploy -am
    rm -rf "$pack"
    mkdir -p "$pack/lib" "$pack/loader"
    cp deploy/target/lib/*.jar "$pack/lib/"
    rm -f "$pack"/lib/*natives-linux-arm*.jar # the device is x86-64
    cp -L "$loader" "$pack/loader/libOpenCL.so.1"
    local modules
    modules=$("$jdk/bin/jdeps" --multi-release 25 --ignore-missing-deps --print-module-deps "$pack"/lib/*.jar | tail -1)
    # java.desktop (10 MB, for jackson-databind's optional java.beans support) would not fit the carry limit
    modules=$(echo "$modules" | tr , '\n' | grep -vx java.desktop | paste -sd,)
    say "linking a Java runtime ($modules, jdk.incubator.vector, jdk.zipfs)"
    "$jdk/bin/jlink" --add-modules "$modules,jdk.incubator.vector,jdk.zipfs" --strip-debug --no-header-files \
        --no-man-pages --compress=zip-6 --output "$pack/runtime"
    local mb
    mb=$(du -sm "$pack" | cut -f1)
    (( mb < 60 )) || die "$pack is $mb MB: over what a device call carries (64 MiB with the working tree)"
    say "packed $pack ($mb MB). On the device machine:"
    echo "run(command=\"bench/opencl-device.sh run 2>&1 | tee \$OUT/opencl-device.log\", carry=[\"$pack\"], timeout_s=600)"
}

run() {
    local preset=tinyllama-1.1b types="q4_0 q8_0 q4_k_m" lanes="8 16" steps=50 prompt=128 gen=128 repeat=2
    local dry_run=false
    while (( $# )); do
        case "$1" in
            --preset) preset=${2:?}; shift 2 ;;
            --types) types=${2:?}; shift 2 ;;
            --lanes) lanes=${2-}; shift 2 ;;
            --steps) steps=${2:?}; shift 2 ;;
            --prompt-tokens) prompt=${2:?}; shift 2 ;;
            --gen-tokens) gen=${2:?}; shift 2 ;;
            --repeat) repeat=${2:?}; shift 2 ;;
            --dry-run) dry_run=true; shift ;;
            *) die "unknown option $1 (see the top of bench/opencl-device.sh)" ;;
        esac
    done
    [[ -x $pack/runtime/bin/java && -e $pack/loader/libOpenCL.so.1 ]] \
        || die "nothing packed in $pack: run 'bench/opencl-device.sh pack' on the development machine and carry $pack"
    compgen -G "$pack/lib/kernels-opencl-*.jar" >/dev/null || die "$pack/lib has no kernels-opencl jar: pack again"
    command -v python3 >/dev/null || die "python3 is needed for the table"
    rm -rf "$work"
    mkdir -p "$work/models" "$work/vendors"

    # the launcher takes the packed jars and runtime; the packed loader reads our vendors folder
    export TINYEDGE_HOME=$root/$pack
    unset JAVA_HOME
    export LD_LIBRARY_PATH=$root/$pack/loader${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    local nvidia
    nvidia=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1 / {print $NF; exit}')
    if [[ -z "$nvidia" ]]; then
        nvidia=$(find /usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 -name 'libnvidia-opencl.so.1' 2>/dev/null | head -1 || true)
    fi
    if [[ -n "$nvidia" ]]; then
        echo "$nvidia" > "$work/vendors/nvidia.icd"
        export OCL_ICD_VENDORS=$root/$work/vendors
        say "NVIDIA OpenCL driver: $nvidia"
        if command -v nvidia-smi >/dev/null; then
            nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
        fi
    elif ! $dry_run; then
        die "no libnvidia-opencl.so.1 here (ldconfig -p, /usr/local/nvidia): no GPU driver to measure; --dry-run takes any OpenCL device"
    else
        say "dry run: no NVIDIA driver, using the system's OpenCL devices"
    fi
    local base_opts="-Dtinyedge.opencl.required=true -Dtinyedge.cache.dir=$root/$work/cache"
    local java=("$pack/runtime/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED
        --sun-misc-unsafe-memory-access=allow -Dorg.lwjgl.opencl.libname=libOpenCL.so.1)

    # does tinyedge open the GPU (not a CPU fallback, not PoCL)?
    TINYEDGE_JAVA_OPTS=$base_opts timeout 120 bin/tinyedge synth "$work/models/probe.gguf" --preset tiny --type q8_0 \
        2> "$work/probe-synth.log" || die "synth failed: $(tail -1 "$work/probe-synth.log")"
    TINYEDGE_JAVA_OPTS=$base_opts timeout 120 bin/tinyedge logits --model "$work/models/probe.gguf" --prompt "Hello" \
        --backend opencl > /dev/null 2> "$work/probe.log" || die "the OpenCL backend did not run: $(grep -m1 'error' "$work/probe.log" || tail -1 "$work/probe.log")"
    local device
    device=$(sed -n 's/.*Backend: opencl (\(.*\))$/\1/p' "$work/probe.log" | head -1)
    [[ -n "$device" ]] || die "no 'Backend: opencl' line in $work/probe.log"
    say "device: $device"
    if ! $dry_run && [[ "$device" == *"Portable Computing Language"* ]]; then
        die "tinyedge chose PoCL, not the GPU: check $work/vendors/nvidia.icd"
    fi
    grep -h "OpenCL kernels:" "$work/probe.log" >&2 || true

    say "synthesizing $preset models: $types"
    local type pids=()
    for type in $types; do
        TINYEDGE_JAVA_OPTS=$base_opts timeout 300 bin/tinyedge synth "$work/models/$preset-$type.gguf" --preset "$preset" \
            --type "$type" 2> "$work/synth-$type.log" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || die "synth failed or timed out: $(tail -q -n1 "$work"/synth-*.log | grep -m1 error || echo see $work)"
    done

    local split model
    : > "$work/devicebench.jsonl"
    : > "$work/bench.jsonl"
    for type in $types; do
        model=$work/models/$preset-$type.gguf
        say "$type: matrix products (the device's kernels)"
        # the check compares with the CPU backend, whose KV cache is f32
        timeout 180 "${java[@]}" $base_opts -Dtinyedge.opencl.kv=f32 -cp "$pack/lib/*" dev.tinyedge.opencl.DeviceBench \
            "$model" --steps "$steps" >> "$work/devicebench.jsonl" 2> "$work/devicebench-$type.log" \
            || die "DeviceBench failed on $type: $(grep -m1 -i 'exception\|error' "$work/devicebench-$type.log" \
                || tail -1 "$work/devicebench-$type.log")"
        for split in portable $lanes; do
            say "$type: matrix products, $split"
            local property=-Dtinyedge.opencl.lanes=$split
            [[ $split == portable ]] && property=-Dtinyedge.opencl.portable=true
            timeout 120 "${java[@]}" $base_opts "$property" -cp "$pack/lib/*" dev.tinyedge.opencl.DeviceBench "$model" \
                --steps "$steps" --no-check >> "$work/devicebench.jsonl" 2> "$work/devicebench-$type-$split.log" \
                || die "DeviceBench ($split) failed on $type: $(tail -1 "$work/devicebench-$type-$split.log")"
        done
        say "$type: tinyedge bench --backend opencl"
        TINYEDGE_JAVA_OPTS=$base_opts timeout 240 bin/tinyedge bench --model "$model" --backend opencl \
            --prompt-tokens "$prompt" --gen-tokens "$gen" --repeat "$repeat" >> "$work/bench.jsonl" 2> "$work/bench-$type.log" \
            || die "bench failed on $type: $(grep -m1 'error' "$work/bench-$type.log" || tail -1 "$work/bench-$type.log")"
        # what is measured so far survives a call cut short
        [[ -z "${OUT:-}" ]] || cp "$work/devicebench.jsonl" "$work/bench.jsonl" "$OUT/"
    done

    local date
    date=$(date -u '+%Y-%m-%d %H:%M UTC')
    python3 - "$work" "$device" "$date" "$preset" "$prompt" "$gen" "$repeat" "$steps" > "$work/opencl-device.md" <<'EOF'
import json, sys
work, device, date, preset, prompt, gen, repeat, steps = sys.argv[1:]
products = [json.loads(line) for line in open(f"{work}/devicebench.jsonl")]
benches = [json.loads(line) for line in open(f"{work}/bench.jsonl")]
print(f"`bench/opencl-device.sh run` on {device}, {date}; {preset}-shaped synthetic models.")
print()
print(f"Decode's matrix products alone ({steps} steps, inputs' rounding included; DeviceBench):")
print()
print("| model | kernels | KV | weights MB/token | products GB/s | % of copy | copy GB/s | logits vs CPU | extensions vs portable |")
print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for p in products:
    print(f"| {p['model']} | {p['tuning']} | {p['kv']} | {p['weight_mb_per_token']} | {p['matvec_gb_s']} "
          f"| {p['matvec_pct_of_copy']} | {p['copy_gb_s']} | {p['vs_cpu'] if p['vs_cpu'] is not None else '-'} "
          f"| {p['vs_portable'] if p['vs_portable'] is not None else '-'} |")
print()
print(f"Whole model, `tinyedge bench --backend opencl --prompt-tokens {prompt} --gen-tokens {gen} --repeat {repeat}`:")
print()
print("| model | prefill tok/s | decode tok/s | decode GB/s | % of copy | copy GB/s | peak RSS MB |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for b in benches:
    print(f"| {b['model']} | {b['prefill_tok_s']} | {b['decode_tok_s']} | {b.get('decode_gb_s', '-')} "
          f"| {b.get('decode_bandwidth_pct', '-')} | {b.get('copy_gb_s', '-')} | {b['peak_rss_mb']} |")
EOF
    cat "$work/opencl-device.md"
    [[ -z "${OUT:-}" ]] || cp "$work/opencl-device.md" "$OUT/"
}

case "${1:-}" in
    pack) shift; (( $# == 0 )) || die "pack takes no options"; pack ;;
    run) shift; run "$@" ;;
    *) die "usage: bench/opencl-device.sh pack | run [OPTIONS] (see the top of the script)" ;;
esac
