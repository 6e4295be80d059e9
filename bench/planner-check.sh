#!/usr/bin/env bash
# Checks the memory planner against measured peak RSS: the TinyLlama-1.1B-shape Q4_0 synth model at
# context 512 and 2048, with the JVM heap left to its default and capped at the plan's recommendation
# (TINYEDGE_HEAP, as the systemd unit runs it). One JSON line per run; bench/RESULTS.md ("Memory planner vs measured") has a
# recorded run. Needs the runtime jars (mvn -DskipTests package -pl deploy -am) and the model in
# bench/models/ (bin/tinyedge synth --preset tinyllama-1.1b --type q4_0 bench/models/tinyllama-1.1b-q4_0.gguf).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
model=${MODEL:-$root/bench/models/tinyllama-1.1b-q4_0.gguf}
threads=${THREADS:-2}
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
[[ -f "$model" ]] || { echo "planner-check: no model at $model" >&2; exit 1; }

# compiled ahead: the source launcher would put javac in the measured process
classes="$root/bench/target/planner-check"
mkdir -p "$classes"
"$(dirname "$java")/javac" -d "$classes" -cp "$root/deploy/target/lib/*" --add-modules jdk.incubator.vector \
  "$root/bench/PlannerCheck.java"

run() { # the launcher's JVM flags, then any extra
  "$java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
    -XX:+UseSerialGC -Xmn16m -Xss4m "$@" -cp "$classes:$root/deploy/target/lib/*" PlannerCheck \
    "$model" generic-x86_64 "$ctx" "$threads" 64 8 2>/dev/null
}
for ctx in 512 2048; do
  line=$(run)
  echo "$line"
  heap=$(sed 's/.*"recommended_heap_mb":\([0-9]*\).*/\1/' <<<"$line")
  run "-Xmx${heap}m"
done
