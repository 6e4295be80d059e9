#!/usr/bin/env bash
# Coverage-guided fuzzing of every input parser with Jazzer (libFuzzer inside the JVM), one target after the
# other, MINUTES each (default 10). Each target is a @FuzzTest in edge-runtime/src/test/java/dev/tinyedge/fuzz;
# without JAZZER_FUZZ the same tests only replay their committed corpora (part of tests/run.sh, seconds).
#
#   bench/fuzz.sh [MINUTES] [TARGET...]      e.g. bench/fuzz.sh 3 GgufFuzzTest#loadsOrRefusesAnyFile
#
# What a run leaves behind:
# - the corpus libFuzzer grew, in edge-runtime/.cifuzz-corpus/CLASS/METHOD (ignored by git; the next run goes on
#   from it), and its entries up to CORPUS_KEEP_KB per target copied into the committed corpus
#   edge-runtime/src/test/resources/dev/tinyedge/fuzz/CLASSInputs/METHOD, so that the regression run replays them;
# - a crash reproducer (crash-*, timeout-*) for every finding, written by Jazzer into that committed folder: the
#   regression run fails on it until the bug is fixed, and then keeps it as a test;
# - the table of executions per target in bench/RESULTS.md (between the bench/fuzz.sh markers), and the logs
#   in edge-runtime/target/fuzz/.
# Needs JDK 25 and Maven (as tests/run.sh); the tokenizer target needs tests/node (tests/node/install.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "bench/fuzz.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

minutes=${1:-10}
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || die "usage: bench/fuzz.sh [MINUTES] [CLASS#METHOD...]"
shift || true

# Every fuzz target
targets=(
    GgufFuzzTest#loadsOrRefusesAnyFile
    TokenizerFuzzTest#encodesAnyTextAndDecodesItBack
    RequestParserFuzzTest#answersEveryPayload
    ConfigFuzzTest#readsOrRefusesAnyConfiguration
    ConfigFuzzTest#readsOrRefusesAnyProfile
    HubFuzzTest#readsOrRefusesAnyListing
    HubFuzzTest#readsOrRefusesAnyAnswerHeaders
    EvalPairsFuzzTest#readsOrRefusesAnyPairs
)
(( $# )) && targets=("$@")

CORPUS_KEEP_KB=${CORPUS_KEEP_KB:-256}
# libFuzzer: an input that runs longer than this many seconds is a finding (a hang)
INPUT_TIMEOUT_S=${INPUT_TIMEOUT_S:-20}

if [[ -z "${JAVA_HOME:-}" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"25'; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        [[ -x "$candidate/bin/javac" ]] && { JAVA_HOME=$candidate; break; }
    done
fi
[[ -x "${JAVA_HOME:-}/bin/javac" ]] || die "no JDK 25 found: set JAVA_HOME"
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"

resources=edge-runtime/src/test/resources/dev/tinyedge/fuzz
logs=edge-runtime/target/fuzz
mkdir -p "$logs"

say "building the tests"
mvn -B -q -ntp -pl edge-runtime -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$root/$logs/classpath.txt" -Dmdep.includeScope=test >&2
# the GGUF target's seeds come from the current writer
"$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector -cp \
    "edge-runtime/target/test-classes:edge-runtime/target/classes:$(cat "$logs/classpath.txt")" \
    dev.tinyedge.fuzz.MicroModels "$resources/GgufFuzzTestInputs/loadsOrRefusesAnyFile" 2>/dev/null

started=$(date -u '+%Y-%m-%d %H:%M UTC')
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
failed=0
for target in "${targets[@]}"; do
    class=${target%%#*}
    method=${target#*#}
    log="$logs/$class-$method.log"
    inputs="$resources/${class}Inputs/$method"
    corpus="edge-runtime/.cifuzz-corpus/dev.tinyedge.fuzz.$class/$method"
    findings_before=$(find "$inputs" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' 2>/dev/null | wc -l)
    say "fuzzing $target for $minutes min (log: $log)"
    status=0
    # JUnit fuzzes one test per JVM; libFuzzer takes the last of repeated flags, so these override the
    # annotation's maxDuration. Jackson is instrumented too: its JSON and TOML parsers decide what our code sees.
    JAZZER_FUZZ=1 mvn -B -ntp -pl edge-runtime -am test-compile surefire:test@fuzz-corpora \
        -Dtinyedge.fuzzTargets="$target" -Dsurefire.failIfNoSpecifiedTests=false \
        -Djazzer.instrumentation_includes='dev.tinyedge.**:com.fasterxml.jackson.**' \
        -Djazzer.internal.arg.0=fuzz -Djazzer.internal.arg.1=-max_total_time=$((minutes * 60)) \
        -Djazzer.internal.arg.2=-timeout=$INPUT_TIMEOUT_S > "$log" 2>&1 || status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    seconds=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log" | tail -1)
    coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    findings_after=$(find "$inputs" -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' 2>/dev/null | wc -l)
    new_findings=$((findings_after - findings_before))
    # keep the grown corpus, smallest entries first, up to the size cap
    kept=0
    if [[ -d "$corpus" ]]; then
        budget=$((CORPUS_KEEP_KB * 1024))
        while read -r size file; do
            (( size <= budget )) || break
            [[ -e "$inputs/$(basename "$file")" ]] || { cp "$file" "$inputs/"; kept=$((kept + 1)); }
            budget=$((budget - size))
        done < <(find "$corpus" -type f -printf '%s %p\n' | sort -n)
    fi
    if (( status != 0 || new_findings > 0 )) || [[ -z "$runs" ]]; then
        failed=$((failed + 1))
        verdict="**finding** (see $log)"
        (( new_findings > 0 )) && verdict="**$new_findings finding(s)**: $(cd "$inputs" && ls -t | grep -E '^(crash|timeout|oom)-' | head -"$new_findings" | tr '\n' ' ')"
    else
        verdict="none"
    fi
    rate=$([[ -n "$runs" && "${seconds:-0}" -gt 0 ]] && echo $((runs / seconds)) || echo "-")
    rows+=("| \`$target\` | ${seconds:--} | ${runs:--} | $rate | ${coverage:--} | $(find "$inputs" -type f | wc -l) (+$kept) | $verdict |")
    say "$target: ${runs:-no} runs in ${seconds:-?} s, coverage ${coverage:-?}, findings: $verdict"
done

section=$(mktemp)
{
    echo "## Fuzzing: executions per target"
    echo
    echo "Written by \`bench/fuzz.sh $minutes\` on $started. Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, shared with other jobs; load average $load_before before,"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) after. Jazzer $(sed -n 's:.*<jazzer.version>\(.*\)</jazzer.version>.*:\1:p' pom.xml), JDK $("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | cut -d'"' -f2)."
    echo
    echo "| target | seconds | executions | exec/s | coverage (edges) | committed corpus (+ added) | findings |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | --- |"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Findings and their fixes are listed under \"Fuzzing: findings\" below; every reproducer stays in the"
    echo "committed corpus, which \`tests/run.sh\` replays."
} > "$section"
bench/write-section.py bench/fuzz.sh "$section"
rm -f "$section"
printf '%s\n' "${rows[@]}"
say "wrote bench/RESULTS.md"
echo "fuzz: ${#targets[@]} targets, $failed with findings"
exit $(( failed > 0 ))
