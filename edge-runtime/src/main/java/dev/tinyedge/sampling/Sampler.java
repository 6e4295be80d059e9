package dev.tinyedge.sampling;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits in the order of llama.cpp's default sampler chain: top-k, then top-p
 * (on the softmax of the raw logits, renormalized over what top-k kept), then temperature, then a random
 * draw. Temperature 0 (or below) is greedy: the largest logit, the lowest id on ties. {@code topK <= 0}
 * and {@code topP >= 1} switch those filters off. The draws are deterministic for a seed.
 *
 * <p>Working arrays are sized to the vocabulary once; sampling a token allocates nothing.
 */
public final class Sampler {
    private final float temperature;
    private final int topK;
    private final float topP;
    private final SplittableRandom random;
    /** Candidates packed as (raw-logit softmax probability bits << 32 | token id): longs sort by probability. */
    private long[] candidates = new long[0];

    public Sampler(float temperature, int topK, float topP, long seed) {
        if (!(topP > 0) || Float.isNaN(temperature)) {
            throw new IllegalArgumentException("top-p must be in (0, 1] and temperature a number");
        }
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public static Sampler greedy() {
        return new Sampler(0, 0, 1, 0);
    }

    public boolean isGreedy() {
        return temperature <= 0;
    }

    public int sample(float[] logits) {
        int n = logits.length;
        if (isGreedy()) {
            return argmax(logits, n);
        }
        if (candidates.length != n) {
            candidates = new long[n];
        }
        float max = logits[argmax(logits, n)];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += Math.exp(logits[i] - max);
        }
        int count;
        if (topK > 0 && topK < n) {
            count = selectTopK(logits, max, sum, n);
        } else if (topP < 1) {
            // Tokens below this probability weigh less than 1 - topP together, so the nucleus lies above it
            // and only these need sorting.
            double cutoff = (1 - topP) / (n - 1);
            count = 0;
            for (int i = 0; i < n; i++) {
                double p = Math.exp(logits[i] - max) / sum;
                if (p >= cutoff) {
                    candidates[count++] = pack(p, i);
                }
            }
        } else {
            return draw(logits, max, n);
        }
        Arrays.sort(candidates, 0, count); // ascending: the most probable token is last
        int first = count - nucleusSize(count);
        // temperature, then the draw, over candidates[first, count)
        double total = 0;
        for (int c = first; c < count; c++) {
            total += Math.exp((logits[id(candidates[c])] - max) / temperature);
        }
        double r = random.nextDouble() * total;
        for (int c = count - 1; c > first; c--) {
            r -= Math.exp((logits[id(candidates[c])] - max) / temperature);
            if (r < 0) {
                return id(candidates[c]);
            }
        }
        return id(candidates[first]);
    }

    /** How many of the most probable sorted candidates make up top-p of their total probability. */
    private int nucleusSize(int count) {
        if (topP >= 1) {
            return count;
        }
        double total = 0;
        for (int c = 0; c < count; c++) {
            total += probability(candidates[c]);
        }
        double cumulative = 0;
        for (int kept = 1; kept <= count; kept++) {
            cumulative += probability(candidates[count - kept]);
            if (cumulative >= topP * total) {
                return kept;
            }
        }
        return count;
    }

    /** Puts the topK most probable tokens into candidates[0, topK) with a min-heap; returns topK. */
    private int selectTopK(float[] logits, float max, double sum, int n) {
        for (int i = 0; i < n; i++) {
            long c = pack(Math.exp(logits[i] - max) / sum, i);
            if (i < topK) {
                candidates[i] = c;
                siftUp(i);
            } else if (c > candidates[0]) {
                candidates[0] = c;
                siftDown(0, topK);
            }
        }
        return topK;
    }

    private void siftUp(int i) {
        while (i > 0 && candidates[(i - 1) / 2] > candidates[i]) {
            swap(i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
    }

    private void siftDown(int i, int size) {
        while (true) {
            int smallest = i;
            for (int child = 2 * i + 1; child <= 2 * i + 2 && child < size; child++) {
                if (candidates[child] < candidates[smallest]) {
                    smallest = child;
                }
            }
            if (smallest == i) {
                return;
            }
            swap(i, smallest);
            i = smallest;
        }
    }

    private void swap(int a, int b) {
        long t = candidates[a];
        candidates[a] = candidates[b];
        candidates[b] = t;
    }

    /** A draw from the whole vocabulary at the temperature. */
    private int draw(float[] logits, float max, int n) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += Math.exp((logits[i] - max) / temperature);
        }
        double r = random.nextDouble() * total;
        for (int i = 0; i < n - 1; i++) {
            r -= Math.exp((logits[i] - max) / temperature);
            if (r < 0) {
                return i;
            }
        }
        return n - 1;
    }

    /** The greedy choice: the index of the largest of logits[0, n), the first on a tie. */
    public static int argmax(float[] logits, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }

    private static long pack(double probability, int id) {
        return (long) Float.floatToRawIntBits((float) probability) << 32 | id;
    }

    private static int id(long candidate) {
        return (int) candidate;
    }

    private static float probability(long candidate) {
        return Float.intBitsToFloat((int) (candidate >>> 32));
    }
}
