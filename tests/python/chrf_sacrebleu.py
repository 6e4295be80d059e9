"""Scores sentence sets with sacreBLEU, the reference for tinyedge eval's chrF and chrF++.

Usage: chrf_sacrebleu.py SETS.json SCORES.json
SETS.json: [{"hypotheses": [...], "references": [...]}, ...]
SCORES.json: [{"chrf": x, "chrf_pp": y, "sentence_chrf": [...]}, ...]
"""
import json
import sys

import sacrebleu
from sacrebleu.metrics import CHRF


def main(sets_path, scores_path):
    assert sacrebleu.__version__ == "2.6.0", sacrebleu.__version__
    chrf, chrf_pp = CHRF(), CHRF(word_order=2)
    with open(sets_path, encoding="utf-8") as f:
        sets = json.load(f)
    scores = []
    for s in sets:
        hyps, refs = s["hypotheses"], s["references"]
        scores.append({
            "chrf": chrf.corpus_score(hyps, [refs]).score,
            "chrf_pp": chrf_pp.corpus_score(hyps, [refs]).score,
            "sentence_chrf": [chrf.sentence_score(h, [r]).score for h, r in zip(hyps, refs)],
        })
    with open(scores_path, "w", encoding="utf-8") as f:
        json.dump(scores, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
