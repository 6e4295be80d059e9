#!/usr/bin/env bash
# The soak: 1,000 requests from 20 clients through a real Mosquitto to `bin/tinyedge serve` (the tiny synthetic
# model), with faults on a schedule: kill -9 of the daemon 5 times, Mosquitto restarted 3 times, a second daemon
# joining and leaving the shared subscription; 10% malformed requests, 5% cancelled. Checks that every request is
# answered as it should be and to the client that sent it, and that the daemon's RSS, threads and open file
# descriptors stay within 5% after the faults and a warm-up (tests/src/test/java/dev/tinyedge/service/Soak.java).
#
#   bench/soak.sh
#
# Prints one summary line and writes its table to bench/RESULTS.md (between the bench/soak.sh markers). Needs
# JDK 25, Maven and Mosquitto (tests/run.sh installs it); about 5 minutes on a 2-core machine, under 15.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { echo "bench/soak.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

if [[ -z "${JAVA_HOME:-}" ]] || ! "$JAVA_HOME/bin/java" -version 2>&1 | grep -q '"25'; then
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        [[ -x "$candidate/bin/javac" ]] && { JAVA_HOME=$candidate; break; }
    done
fi
[[ -x "${JAVA_HOME:-}/bin/javac" ]] || die "no JDK 25 found: set JAVA_HOME"
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
command -v mosquitto >/dev/null || die "mosquitto not found (apt-get install mosquitto, or run tests/run.sh once)"

work=tests/target/soak
mkdir -p "$work"
say "building bin/tinyedge's jars and the soak"
mvn -B -q -ntp -DskipTests package -pl deploy -am >&2
mvn -B -q -ntp -pl tests -am test-compile dependency:build-classpath \
    -Dmdep.outputFile="$root/$work/classpath.txt" -Dmdep.includeScope=test >&2

# the daemon's heap fixed and touched from the start, as a board with a planned memory budget would run it: its
# RSS then shows what grows besides the heap (code, metaspace, threads, sockets, buffers), and the soak checks the
# live heap itself after a full GC (jcmd); native memory tracking says in the log what grew besides
export TINYEDGE_HEAP=${TINYEDGE_HEAP:-128m}
export TINYEDGE_JAVA_OPTS="${TINYEDGE_JAVA_OPTS:-} -Xms$TINYEDGE_HEAP -XX:+AlwaysPreTouch -XX:NativeMemoryTracking=summary"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
(cd tests && "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
    -cp "target/test-classes:$root/edge-runtime/target/test-classes:$root/edge-runtime/target/classes:$(cat "$root/$work/classpath.txt")" \
    dev.tinyedge.service.Soak "$root/$work/table.md") > "$work/soak.log" 2>&1 || status=$?
[[ -s "$work/table.md" ]] || { tail -40 "$work/soak.log" >&2; die "the soak wrote no table (exit $status)"; }

section=$(mktemp)
{
    echo "## Soak: 1,000 requests under faults"
    echo
    echo "Written by \`bench/soak.sh\` on $started. Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'),"
    echo "$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, shared with other jobs; load average $load_before before,"
    echo "$(cut -d' ' -f1-3 /proc/loadavg) after. Mosquitto $(mosquitto -h 2>/dev/null | sed -n 's/^mosquitto version \([^ ]*\).*/\1/p'),"
    echo "the tiny synthetic Q4_0 model, daemon heap $TINYEDGE_HEAP (-Xms = -Xmx, pre-touched), 24 tokens per request."
    echo
    cat "$work/table.md"
} > "$section"
bench/write-section.py bench/soak.sh "$section"
rm -f "$section"
grep -a '^soak: ' "$work/soak.log" | tail -40 >&2 || true
say "wrote bench/RESULTS.md (log: $work/soak.log)"
head -1 "$work/table.md" | tr -d '`'
exit "$status"
