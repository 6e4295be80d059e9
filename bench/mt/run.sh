#!/usr/bin/env bash
# The translation baseline: Apertium, a rule-based translator packaged by Debian, on an en->xx test set made
# here from human translations already on this machine (the gettext catalogs of installed packages), scored
# with tinyedge's chrF (sacreBLEU's definition). With --model, a tinyedge model translates the same set
# through the daemon's prompts, so the two numbers sit side by side.
#
#   bench/mt/run.sh [--to es] [--limit 300] [--model MODEL|CATALOG-NAME] [--threads N]
#
# Installs (as root, when missing): apertium and the language pair's package (apertium-eng-spa for es),
# gettext for msgunfmt. The test set is written to bench/mt/target/ (not committed): which sentences it holds
# depends on the packages installed, so say which machine a score came from.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

to=es limit=300 model="" threads=0
while (( $# )); do
    case $1 in
        --to) to=$2; shift 2 ;;
        --limit) limit=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        *) echo "usage: bench/mt/run.sh [--to es|ca|gl] [--limit N] [--model MODEL] [--threads N]" >&2; exit 2 ;;
    esac
done
case $to in
    es) pair=eng-spa package=apertium-eng-spa ;;
    ca) pair=eng-cat package=apertium-eng-cat ;;
    gl) pair=en-gl package=apertium-en-gl ;;
    *) echo "bench/mt/run.sh: no Apertium pair from English to '$to' here (es, ca, gl)" >&2; exit 2 ;;
esac

missing=()
for p in apertium "$package" gettext; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
    (( EUID == 0 )) || { echo "bench/mt/run.sh: missing ${missing[*]}: sudo apt-get install ${missing[*]}" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >&2
fi

out=bench/mt/target
mkdir -p "$out"
set_file=$out/en-$to.tsv
shopt -s nullglob
catalogs=(/usr/share/locale/"$to"/LC_MESSAGES/*.mo)
(( ${#catalogs[@]} )) || { echo "bench/mt/run.sh: no $to gettext catalogs in /usr/share/locale/$to" >&2; exit 1; }
for mo in "${catalogs[@]}"; do msgunfmt "$mo" 2>/dev/null || true; echo; done | python3 bench/mt/po_pairs.py "$limit" > "$set_file"
pairs=$(wc -l < "$set_file")
words=$(cut -f1 "$set_file" | wc -w)
echo "test set: $pairs en->$to pairs ($words English words) from ${#catalogs[@]} gettext catalogs -> $set_file" >&2

cut -f1 "$set_file" > "$out/source.txt"
start=$EPOCHREALTIME
apertium -u "$pair" < "$out/source.txt" > "$out/apertium.$to.txt"
seconds=$(python3 -c "print($EPOCHREALTIME - $start)")
bin/tinyedge eval --hypotheses "$out/apertium.$to.txt" --pairs "$set_file" --from en --to "$to" --json > "$out/apertium.json"
python3 - "$out/apertium.json" "$seconds" "$pairs" "$words" "$pair" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = float(sys.argv[2]); n = int(sys.argv[3]); w = int(sys.argv[4])
print(f"apertium {sys.argv[5]}: chrF {r['chrf']:.2f}  chrF++ {r['chrf_plus_plus']:.2f}  "
      f"{n / s:.0f} sentences/s  {w / s:.0f} words/s  ({s:.2f} s, one process, start-up included)")
PY
if [[ -n $model ]]; then
    bin/tinyedge eval --model "$model" --pairs "$set_file" --from en --to "$to" --threads "$threads" --json > "$out/model.json"
    python3 - "$out/model.json" "$words" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); w = int(sys.argv[2])
print(f"tinyedge {r['model']}: chrF {r['chrf']:.2f}  chrF++ {r['chrf_plus_plus']:.2f}  "
      f"{r['sentences_per_s']:.2f} sentences/s  {w / r['seconds']:.1f} words/s  "
      f"{r['generated_tokens_per_s']:.1f} generated tokens/s  ({r['seconds']:.1f} s)")
PY
fi
