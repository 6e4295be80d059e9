#!/usr/bin/env bash
# Writes a JDK 25 AOT cache (JEP 483: classes loaded and linked ahead) for tinyedge's class path, by running a
# training workload through bin/tinyedge with -XX:AOTCacheOutput: synth a tiny model, generate from it. The
# launcher passes -XX:AOTCache when the file is there (deploy/target/tinyedge.aot in a checkout,
# /usr/share/tinyedge/lib/tinyedge.aot when installed); a cache made by another JVM, or for other jars, is
# ignored by the JVM, so a stale one costs nothing but its start-up gain.
#
#   deploy/aot-cache.sh OUT.aot [LAUNCHER]      LAUNCHER defaults to bin/tinyedge of this checkout
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: deploy/aot-cache.sh OUT.aot [LAUNCHER]}
launcher=${2:-$(dirname "$here")/bin/tinyedge}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$(dirname "$out")"
rm -f "$out"
# the training run must not itself use a cache (the launcher would pass the old one)
TINYEDGE_AOT_CACHE=none "$launcher" synth "$work/tiny.gguf" --preset tiny >/dev/null 2>&1
TINYEDGE_AOT_CACHE=none TINYEDGE_JAVA_OPTS="-XX:AOTCacheOutput=$out -Xlog:aot=off" \
    "$launcher" generate --model "$work/tiny.gguf" --prompt "Where is the train station?" -n 8 >/dev/null 2>&1
[[ -s "$out" ]] || { echo "aot-cache.sh: error: the JVM wrote no AOT cache to $out" >&2; exit 1; }
echo "$out"
