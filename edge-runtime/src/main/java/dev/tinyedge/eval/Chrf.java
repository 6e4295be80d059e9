package dev.tinyedge.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * chrF and chrF++ as sacreBLEU 2.x computes them ({@code sacrebleu.metrics.CHRF}, defaults: character n-grams
 * 1..6, word n-grams 1..2 for chrF++, β = 2, no lower-casing, whitespace left out, no ε smoothing), so that a
 * score here is a score in the literature. What sacreBLEU does, and this class with it:
 * <ul>
 *   <li>character n-grams are taken from the sentence with every whitespace character removed, where
 *       "whitespace" is Python's {@code str.split()} notion (it includes U+00A0, U+2000..U+200A, U+3000 ...)
 *       and a character is a code point;</li>
 *   <li>words are the whitespace-separated tokens, each with one punctuation character (ASCII
 *       {@code string.punctuation}) split off its end or, failing that, its start;</li>
 *   <li>per order, hypothesis, reference and matching n-gram counts are summed over the corpus (a hypothesis
 *       n-gram count is 0 where the reference has no n-gram of that order), then precision and recall are
 *       averaged over the orders where both sides have n-grams ("effective order"), and
 *       F = (1 + β²)·P·R / (β²·P + R), times 100.</li>
 * </ul>
 */
public final class Chrf {
    public static final int CHAR_ORDER = 6;
    public static final int BETA = 2;
    private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

    private final int charOrder;
    private final int wordOrder;
    private final int beta;

    private Chrf(int charOrder, int wordOrder, int beta) {
        this.charOrder = charOrder;
        this.wordOrder = wordOrder;
        this.beta = beta;
    }

    /** sacreBLEU's {@code CHRF()}. */
    public static Chrf chrF() {
        return new Chrf(CHAR_ORDER, 0, BETA);
    }

    /** sacreBLEU's {@code CHRF(word_order=2)}. */
    public static Chrf chrFPlusPlus() {
        return new Chrf(CHAR_ORDER, 2, BETA);
    }

    /** How many numbers {@link #statistics} returns: hypothesis, reference and matching counts per order. */
    public int statisticsLength() {
        return 3 * (charOrder + wordOrder);
    }

    /** One sentence's counts, to be summed over a corpus and scored with {@link #score}. */
    public long[] statistics(String hypothesis, String reference) {
        List<Map<String, Integer>> hyp = ngrams(hypothesis);
        List<Map<String, Integer>> ref = ngrams(reference);
        long[] stats = new long[statisticsLength()];
        for (int order = 0; order < hyp.size(); order++) {
            Map<String, Integer> h = hyp.get(order);
            Map<String, Integer> r = ref.get(order);
            long hypCount = 0;
            long refCount = 0;
            long matches = 0;
            for (Map.Entry<String, Integer> e : h.entrySet()) {
                hypCount += e.getValue();
                Integer inRef = r.get(e.getKey());
                if (inRef != null) {
                    matches += Math.min(e.getValue(), inRef);
                }
            }
            for (int count : r.values()) {
                refCount += count;
            }
            stats[3 * order] = r.isEmpty() ? 0 : hypCount;
            stats[3 * order + 1] = refCount;
            stats[3 * order + 2] = matches;
        }
        return stats;
    }

    /** The score, 0..100, of counts summed over sentences. */
    public double score(long[] stats) {
        double factor = (double) beta * beta;
        double averagePrecision = 0;
        double averageRecall = 0;
        int effectiveOrder = 0;
        for (int order = 0; order < charOrder + wordOrder; order++) {
            long hyp = stats[3 * order];
            long ref = stats[3 * order + 1];
            long match = stats[3 * order + 2];
            if (hyp > 0 && ref > 0) {
                averagePrecision += (double) match / hyp;
                averageRecall += (double) match / ref;
                effectiveOrder++;
            }
        }
        if (effectiveOrder == 0) {
            return 0.0;
        }
        averagePrecision /= effectiveOrder;
        averageRecall /= effectiveOrder;
        if (averagePrecision + averageRecall == 0) {
            return 0.0;
        }
        double score = (1 + factor) * averagePrecision * averageRecall;
        score /= factor * averagePrecision + averageRecall;
        return 100 * score;
    }

    /** The corpus score of aligned hypotheses and references (sacreBLEU's {@code corpus_score}). */
    public double corpusScore(List<String> hypotheses, List<String> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException(hypotheses.size() + " hypotheses for " + references.size() + " references");
        }
        long[] total = new long[statisticsLength()];
        for (int i = 0; i < hypotheses.size(); i++) {
            long[] stats = statistics(hypotheses.get(i), references.get(i));
            for (int k = 0; k < total.length; k++) {
                total[k] += stats[k];
            }
        }
        return score(total);
    }

    public double sentenceScore(String hypothesis, String reference) {
        return score(statistics(hypothesis, reference));
    }

    /** Character n-gram counts for orders 1..charOrder, then word n-gram counts for 1..wordOrder. */
    private List<Map<String, Integer>> ngrams(String sentence) {
        List<Map<String, Integer>> counts = new ArrayList<>(charOrder + wordOrder);
        int[] chars = sentence.codePoints().filter(cp -> !isPythonWhitespace(cp)).toArray();
        for (int n = 1; n <= charOrder; n++) {
            Map<String, Integer> grams = new HashMap<>();
            for (int i = 0; i + n <= chars.length; i++) {
                grams.merge(new String(chars, i, n), 1, Integer::sum);
            }
            counts.add(grams);
        }
        if (wordOrder > 0) {
            List<String> words = words(sentence);
            for (int n = 1; n <= wordOrder; n++) {
                Map<String, Integer> grams = new HashMap<>();
                for (int i = 0; i + n <= words.size(); i++) {
                    grams.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
                }
                counts.add(grams);
            }
        }
        return counts;
    }

    /** sacreBLEU's {@code _remove_punctuation}: whitespace-split words, one punctuation mark split off. */
    static List<String> words(String sentence) {
        List<String> words = new ArrayList<>();
        for (String w : splitOnWhitespace(sentence)) {
            int length = w.codePointCount(0, w.length());
            if (length == 1) {
                words.add(w);
                continue;
            }
            int last = w.codePointBefore(w.length());
            int first = w.codePointAt(0);
            if (isPunctuation(last)) {
                int cut = w.length() - Character.charCount(last);
                words.add(w.substring(0, cut));
                words.add(w.substring(cut));
            } else if (isPunctuation(first)) {
                words.add(w.substring(0, 1));
                words.add(w.substring(1));
            } else {
                words.add(w);
            }
        }
        return words;
    }

    /** Python's {@code str.split()} with no separator: runs of whitespace, none at either end. */
    static List<String> splitOnWhitespace(String s) {
        List<String> parts = new ArrayList<>();
        int start = -1;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            if (isPythonWhitespace(cp)) {
                if (start >= 0) {
                    parts.add(s.substring(start, i));
                    start = -1;
                }
            } else if (start < 0) {
                start = i;
            }
            i += Character.charCount(cp);
        }
        if (start >= 0) {
            parts.add(s.substring(start));
        }
        return parts;
    }

    private static boolean isPunctuation(int cp) {
        return cp < 128 && PUNCTUATION.indexOf(cp) >= 0;
    }

    /**
     * Python's {@code str.isspace()}: Unicode category Zs, or bidirectional class WS, B or S. Java's
     * {@code Character.isWhitespace} differs (it leaves out no-break spaces), hence the list.
     */
    static boolean isPythonWhitespace(int cp) {
        return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0
                || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029
                || cp == 0x202f || cp == 0x205f || cp == 0x3000;
    }
}
