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

    /**
     * Sixteen dot products of four rows of {@code w} (starting at wAt + i*wStride) with four vectors of
     * {@code x} (at xAt + k*xStride): out[outAt + k*outStride + i] = w_i · x_k. Each loaded vector of w and
     * of x serves four products, so the loop does as many FMAs as loads twice over and runs at the FMA
     * units' pace rather than the loads'; the sixteen accumulators and the operands fit the 32 vector
     * registers of AVX-512 and NEON.
     */
    public static void dot4x4(float[] w, int wAt, int wStride, float[] x, int xAt, int xStride, int n,
                              float[] out, int outAt, int outStride) {
        FloatVector a00 = FloatVector.zero(FLOATS), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int i = 0;
        for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
            FloatVector w0 = FloatVector.fromArray(FLOATS, w, wAt + i);
            FloatVector w1 = FloatVector.fromArray(FLOATS, w, wAt + wStride + i);
            FloatVector w2 = FloatVector.fromArray(FLOATS, w, wAt + 2 * wStride + i);
            FloatVector w3 = FloatVector.fromArray(FLOATS, w, wAt + 3 * wStride + i);
            FloatVector x0 = FloatVector.fromArray(FLOATS, x, xAt + i);
            a00 = w0.fma(x0, a00);
            a10 = w1.fma(x0, a10);
            a20 = w2.fma(x0, a20);
            a30 = w3.fma(x0, a30);
            FloatVector x1 = FloatVector.fromArray(FLOATS, x, xAt + xStride + i);
            a01 = w0.fma(x1, a01);
            a11 = w1.fma(x1, a11);
            a21 = w2.fma(x1, a21);
            a31 = w3.fma(x1, a31);
            FloatVector x2 = FloatVector.fromArray(FLOATS, x, xAt + 2 * xStride + i);
            a02 = w0.fma(x2, a02);
            a12 = w1.fma(x2, a12);
            a22 = w2.fma(x2, a22);
            a32 = w3.fma(x2, a32);
            FloatVector x3 = FloatVector.fromArray(FLOATS, x, xAt + 3 * xStride + i);
            a03 = w0.fma(x3, a03);
            a13 = w1.fma(x3, a13);
            a23 = w2.fma(x3, a23);
            a33 = w3.fma(x3, a33);
        }
        // the rows by the vectors; the tail past the last whole vector (n not a multiple of its length) in scalars
        out[outAt] = finish(a00, w, wAt, x, xAt, i, n);
        out[outAt + outStride] = finish(a01, w, wAt, x, xAt + xStride, i, n);
        out[outAt + 2 * outStride] = finish(a02, w, wAt, x, xAt + 2 * xStride, i, n);
        out[outAt + 3 * outStride] = finish(a03, w, wAt, x, xAt + 3 * xStride, i, n);
        out[outAt + 1] = finish(a10, w, wAt + wStride, x, xAt, i, n);
        out[outAt + outStride + 1] = finish(a11, w, wAt + wStride, x, xAt + xStride, i, n);
        out[outAt + 2 * outStride + 1] = finish(a12, w, wAt + wStride, x, xAt + 2 * xStride, i, n);
        out[outAt + 3 * outStride + 1] = finish(a13, w, wAt + wStride, x, xAt + 3 * xStride, i, n);
        out[outAt + 2] = finish(a20, w, wAt + 2 * wStride, x, xAt, i, n);
        out[outAt + outStride + 2] = finish(a21, w, wAt + 2 * wStride, x, xAt + xStride, i, n);
        out[outAt + 2 * outStride + 2] = finish(a22, w, wAt + 2 * wStride, x, xAt + 2 * xStride, i, n);
        out[outAt + 3 * outStride + 2] = finish(a23, w, wAt + 2 * wStride, x, xAt + 3 * xStride, i, n);
        out[outAt + 3] = finish(a30, w, wAt + 3 * wStride, x, xAt, i, n);
        out[outAt + outStride + 3] = finish(a31, w, wAt + 3 * wStride, x, xAt + xStride, i, n);
        out[outAt + 2 * outStride + 3] = finish(a32, w, wAt + 3 * wStride, x, xAt + 2 * xStride, i, n);
        out[outAt + 3 * outStride + 3] = finish(a33, w, wAt + 3 * wStride, x, xAt + 3 * xStride, i, n);
    }

    private static float finish(FloatVector acc, float[] a, int aAt, float[] b, int bAt, int from, int n) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int j = from; j < n; j++) {
            sum += a[aAt + j] * b[bAt + j];
        }
        return sum;
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
