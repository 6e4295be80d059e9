package dev.tinyedge.sampling;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] randomLogits(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] logits = new float[n];
        for (int i = 0; i < n; i++) {
            logits[i] = (float) (3 * random.nextGaussian());
        }
        return logits;
    }

    /** Logits whose softmax is exactly the given probabilities. */
    private static float[] logitsOf(double... probabilities) {
        float[] logits = new float[probabilities.length];
        for (int i = 0; i < logits.length; i++) {
            logits[i] = (float) Math.log(probabilities[i]);
        }
        return logits;
    }

    private static int[] draws(Sampler sampler, float[] logits, int n) {
        int[] counts = new int[logits.length];
        for (int i = 0; i < n; i++) {
            counts[sampler.sample(logits)]++;
        }
        return counts;
    }

    @Test
    void temperatureZeroIsArgmax() {
        Sampler greedy = new Sampler(0, 40, 0.9f, 1);
        for (long seed = 0; seed < 20; seed++) {
            float[] logits = randomLogits(32000, seed);
            int best = 0;
            for (int i = 0; i < logits.length; i++) {
                if (logits[i] > logits[best]) {
                    best = i;
                }
            }
            assertEquals(best, greedy.sample(logits));
        }
        assertEquals(1, Sampler.greedy().sample(new float[] {1, 5, 5}), "ties go to the lowest id");
    }

    @Test
    void sameSeedSameTokensOtherSeedOtherTokens() {
        float[] logits = randomLogits(32000, 3);
        for (int[] settings : new int[][] {{0, 100}, {40, 100}, {0, 90}, {40, 95}}) {
            float topP = settings[1] / 100f;
            int[] a = new int[50];
            int[] b = new int[50];
            int[] c = new int[50];
            Sampler sa = new Sampler(1.5f, settings[0], topP, 7);
            Sampler sb = new Sampler(1.5f, settings[0], topP, 7);
            Sampler sc = new Sampler(1.5f, settings[0], topP, 8);
            for (int i = 0; i < 50; i++) {
                a[i] = sa.sample(logits);
                b[i] = sb.sample(logits);
                c[i] = sc.sample(logits);
            }
            assertArrayEquals(a, b);
            assertFalse(Arrays.equals(a, c), "another seed draws another sequence");
        }
    }

    @Test
    void topKDrawsOnlyFromTheKLargest() {
        float[] logits = randomLogits(5000, 4);
        float[] sorted = logits.clone();
        Arrays.sort(sorted);
        float kth = sorted[sorted.length - 5];
        int[] counts = draws(new Sampler(5f, 5, 1f, 11), logits, 3000);
        int distinct = 0;
        for (int id = 0; id < logits.length; id++) {
            if (counts[id] > 0) {
                distinct++;
                assertTrue(logits[id] >= kth, "token " + id + " is outside the top 5");
            }
        }
        assertEquals(5, distinct, "a high temperature reaches all five");
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        float[] logits = logitsOf(0.05, 0.5, 0.15, 0.3);
        int[] counts = draws(new Sampler(1f, 0, 0.75f, 12), logits, 20000);
        assertEquals(0, counts[0] + counts[2], "0.5 + 0.3 reaches 0.75; the rest is cut");
        assertEquals(0.5 / 0.8, counts[1] / 20000.0, 0.015, "renormalized over the nucleus");

        counts = draws(new Sampler(1f, 0, 0.85f, 13), logits, 20000);
        assertEquals(0, counts[0]);
        assertTrue(counts[2] > 0);

        // top-k first, then top-p renormalized over what top-k kept (as llama.cpp): 0.5 alone is short of
        // 0.6, but 0.5 / (0.5 + 0.3) = 0.625 is not
        counts = draws(new Sampler(1f, 2, 0.6f, 14), logits, 2000);
        assertEquals(2000, counts[1]);
    }

    @Test
    void temperatureOneDrawsTheSoftmaxDistribution() {
        double[] p = {0.1, 0.2, 0.3, 0.4};
        int[] counts = draws(new Sampler(1f, 0, 1f, 15), logitsOf(p), 40000);
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], counts[i] / 40000.0, 0.01, "token " + i);
        }
        // temperature 0.5 squares the odds: 0.01 : 0.04 : 0.09 : 0.16
        counts = draws(new Sampler(0.5f, 0, 1f, 16), logitsOf(p), 40000);
        assertEquals(0.16 / 0.30, counts[3] / 40000.0, 0.01);
    }
}
