package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width every kernel uses, chosen once at start-up, and the float-array kernels of the forward
 * pass. The width is the CPU's preferred one (128-bit on NEON boards, 256/512 on x86), clamped to 128..512
 * bits because the block kernels are written for that range; {@code -Dtinyedge.vector.bits=128} forces a
 * narrower one (tests use it to run the NEON-width code paths on an x86 machine).
 */
public final class Simd {
    public static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(
            Math.clamp(requestedBits() > 0 ? requestedBits() : FloatVector.SPECIES_PREFERRED.vectorBitSize(), 128, 512)));

    private Simd() {
    }

    /** -Dtinyedge.vector.bits, or 0 for the CPU's preferred width. */
    private static int requestedBits() {
        return Integer.getInteger("tinyedge.vector.bits", 0);
    }

    public static int vectorBits() {
        return FLOATS.vectorBitSize();
    }

    /**
     * a[aOffset..aOffset+n) · b[bOffset..bOffset+n). Four accumulators, so consecutive FMAs do not wait for
     * each other's results.
     */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        int length = FLOATS.length();
        FloatVector acc0 = FloatVector.zero(FLOATS);
        FloatVector acc1 = FloatVector.zero(FLOATS);
        FloatVector acc2 = FloatVector.zero(FLOATS);
        FloatVector acc3 = FloatVector.zero(FLOATS);
        int i = 0;
        for (int bound = n - 4 * length; i <= bound; i += 4 * length) {
            acc0 = FloatVector.fromArray(FLOATS, a, aOffset + i).fma(FloatVector.fromArray(FLOATS, b, bOffset + i), acc0);
            acc1 = FloatVector.fromArray(FLOATS, a, aOffset + i + length).fma(FloatVector.fromArray(FLOATS, b, bOffset + i + length), acc1);
            acc2 = FloatVector.fromArray(FLOATS, a, aOffset + i + 2 * length).fma(FloatVector.fromArray(FLOATS, b, bOffset + i + 2 * length), acc2);
            acc3 = FloatVector.fromArray(FLOATS, a, aOffset + i + 3 * length).fma(FloatVector.fromArray(FLOATS, b, bOffset + i + 3 * length), acc3);
        }
        for (int bound = FLOATS.loopBound(n); i < bound; i += length) {
            acc0 = FloatVector.fromArray(FLOATS, a, aOffset + i).fma(FloatVector.fromArray(FLOATS, b, bOffset + i), acc0);
        }
        float sum = acc0.add(acc1).add(acc2.add(acc3)).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /**
     * Four dot products sharing one left operand: out[outAt + k*outStride] = w[wAt, wAt+n) · x[xAt + k*xStride ..]
     * for k = 0..3. Each vector of {@code w} is loaded once for the four, which is what makes a batched
     * matrix product cheaper per token than separate ones.
     */
    public static void dot4(float[] w, int wAt, float[] x, int xAt, int xStride, int n, float[] out, int outAt, int outStride) {
        FloatVector acc0 = FloatVector.zero(FLOATS);
        FloatVector acc1 = FloatVector.zero(FLOATS);
        FloatVector acc2 = FloatVector.zero(FLOATS);
        FloatVector acc3 = FloatVector.zero(FLOATS);
        int i = 0;
        for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
            FloatVector wv = FloatVector.fromArray(FLOATS, w, wAt + i);
            acc0 = wv.fma(FloatVector.fromArray(FLOATS, x, xAt + i), acc0);
            acc1 = wv.fma(FloatVector.fromArray(FLOATS, x, xAt + xStride + i), acc1);
            acc2 = wv.fma(FloatVector.fromArray(FLOATS, x, xAt + 2 * xStride + i), acc2);
            acc3 = wv.fma(FloatVector.fromArray(FLOATS, x, xAt + 3 * xStride + i), acc3);
        }
        float s0 = acc0.reduceLanes(VectorOperators.ADD);
        float s1 = acc1.reduceLanes(VectorOperators.ADD);
        float s2 = acc2.reduceLanes(VectorOperators.ADD);
        float s3 = acc3.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            s0 += w[wAt + i] * x[xAt + i];
            s1 += w[wAt + i] * x[xAt + xStride + i];
            s2 += w[wAt + i] * x[xAt + 2 * xStride + i];
            s3 += w[wAt + i] * x[xAt + 3 * xStride + i];
        }
        out[outAt] = s0;
        out[outAt + outStride] = s1;
        out[outAt + 2 * outStride] = s2;
        out[outAt + 3 * outStride] = s3;
    }

    /** y[yOffset..yOffset+n) += a · x[xOffset..xOffset+n). */
    public static void axpy(float a, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
            FloatVector.fromArray(FLOATS, x, xOffset + i)
                    .fma(FloatVector.broadcast(FLOATS, a), FloatVector.fromArray(FLOATS, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += a * x[xOffset + i];
        }
    }
}
