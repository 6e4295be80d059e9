package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vectorized exponential and what uses it, against Math.exp computed in double. */
class SimdTest {

    @Test
    void expIsWithinTwoUlpOfMathExpOverItsRange() {
        SplittableRandom random = new SplittableRandom(1);
        int lanes = Simd.FLOATS.length();
        float[] x = new float[lanes];
        float[] e = new float[lanes];
        double worst = 0;
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < lanes; i++) {
                x[i] = round < 10 ? new float[] {0f, -0f, 1f, -1f, 0.34657359f, -0.34657359f, 80f, -80f, 88f, -87f}[round]
                        : (float) random.nextDouble(-87, 88);
            }
            Simd.exp(FloatVector.fromArray(Simd.FLOATS, x, 0)).intoArray(e, 0);
            for (int i = 0; i < lanes; i++) {
                double expected = Math.exp(x[i]);
                double ulps = Math.abs(e[i] - expected) / Math.ulp((float) expected);
                worst = Math.max(worst, ulps);
                assertTrue(ulps <= 2, "exp(" + x[i] + ") = " + e[i] + ", Math.exp: " + expected + " (" + ulps + " ulp)");
            }
        }
        assertTrue(worst > 0, "the polynomial is not Math.exp: some lane differs in its last bit");
    }

    @Test
    void expClampsWhatWouldOverflowOrUnderflow() {
        float[] x = new float[Simd.FLOATS.length()];
        float[] e = new float[x.length];
        x[0] = 1000f;
        x[1] = -1000f;
        x[2] = Float.POSITIVE_INFINITY;
        x[3] = Float.NEGATIVE_INFINITY;
        Simd.exp(FloatVector.fromArray(Simd.FLOATS, x, 0)).intoArray(e, 0);
        assertEquals(Math.exp(88), e[0], Math.ulp((float) Math.exp(88)) * 2);
        assertEquals(Math.exp(-87), e[1], Math.ulp((float) Math.exp(-87)) * 2);
        assertEquals(e[0], e[2]);
        assertEquals(e[1], e[3]);
    }

    @Test
    void siluGateMatchesTheFormulaOnEveryElementOfAnOddRange() {
        SplittableRandom random = new SplittableRandom(2);
        int n = 5 * Simd.FLOATS.length() + 3;
        float[] gate = new float[n + 4];
        float[] up = new float[n + 4];
        for (int i = 0; i < gate.length; i++) {
            gate[i] = (float) (random.nextGaussian() * 6);
            up[i] = (float) random.nextGaussian();
        }
        gate[5] = -200f; // e^200 would overflow: silu is then -0 or a tiny negative number
        float[] expected = gate.clone();
        for (int i = 2; i < 2 + n; i++) {
            expected[i] = (float) (gate[i] / (1 + Math.exp(-gate[i])) * up[i]);
        }
        Simd.siluGate(gate, up, 2, 2 + n);
        for (int i = 0; i < gate.length; i++) {
            assertEquals(expected[i], gate[i], 4e-7f * Math.abs(expected[i]) + 1e-30f, "element " + i);
        }
    }

    @Test
    void expShiftedReturnsTheSumOfWhatItWrites() {
        SplittableRandom random = new SplittableRandom(3);
        int n = 3 * Simd.FLOATS.length() + 5;
        float[] x = new float[n + 2];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 4);
        }
        float[] before = x.clone();
        float sum = Simd.expShifted(x, 1, 1 + n, 3f);
        double expectedSum = 0;
        for (int i = 1; i < 1 + n; i++) {
            double expected = Math.exp(before[i] - 3f);
            assertEquals(expected, x[i], 3 * Math.ulp((float) expected), "element " + i);
            expectedSum += expected;
        }
        assertEquals(expectedSum, sum, 1e-6 * expectedSum);
        assertEquals(before[0], x[0]);
        assertEquals(before[n + 1], x[n + 1]);
    }
}
