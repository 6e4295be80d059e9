package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
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

    /** Weight rows per tile of the batched kernel: eight rows by two vectors of tokens fill 16 of 32 registers. */
    public static final int TILE_ROWS = 8;
    private static final int TILE_RESULTS = TILE_ROWS * 2 * FLOATS.length();

    /** Floats a tile needs for {@link #tileTimesTransposed}: its rows, then room for one step's results. */
    public static int tileScratchSize(int cols) {
        return TILE_ROWS * cols + TILE_RESULTS;
    }

    /**
     * out[outAt + b*outStride + r] = w_r · x_b for the {@code rows} (at most {@link #TILE_ROWS}) rows of
     * {@code tile} (row r at [r*cols, (r+1)*cols)) and the batch's vectors, given transposed: element k of
     * vector b at xt[k*stride + b] (stride a multiple of the vector length, lanes past the batch zero).
     * Each step broadcasts one weight of each of eight rows and multiplies it into two vectors of tokens,
     * so sixteen accumulators take sixteen FMAs for two vector loads and eight scalar ones: the FMA units,
     * not the loads, set the pace, and the sums need no horizontal reduction. The results go through
     * {@code tile}'s scratch space to {@code out}, which holds them token-major.
     */
    public static void tileTimesTransposed(float[] tile, int rows, int cols, float[] xt, int stride, int batch,
                                    float[] out, int outAt, int outStride) {
        int lanes = FLOATS.length();
        int results = TILE_ROWS * cols;
        for (int b = 0; b < batch; b += 2 * lanes) {
            int vectors = batch - b > lanes ? 2 : 1;
            if (rows == TILE_ROWS && vectors == 2) {
                eightRowsTimesTwoVectors(tile, cols, xt, stride, b, results);
            } else if (rows == TILE_ROWS) {
                eightRowsTimesOneVector(tile, cols, xt, stride, b, results);
            } else {
                for (int r = 0; r < rows; r++) {
                    for (int v = 0; v < vectors; v++) {
                        rowTimesVector(tile, r * cols, cols, xt, stride, b + v * lanes).intoArray(tile, results + (2 * r + v) * lanes);
                    }
                }
            }
            int tokens = Math.min(2 * lanes, batch - b);
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < tokens; t++) {
                    out[outAt + (b + t) * outStride + r] = tile[results + (2 * r + t / lanes) * lanes + t % lanes];
                }
            }
        }
    }

    /** Rows 0..7 of {@code tile} times the two vectors of tokens from b; results in tile[resultsAt..] as row r, vector v at (2r+v)*lanes. */
    private static void eightRowsTimesTwoVectors(float[] tile, int cols, float[] xt, int stride, int b, int resultsAt) {
        int lanes = FLOATS.length();
        FloatVector a00 = FloatVector.zero(FLOATS), a01 = a00;
        FloatVector a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00;
        FloatVector a30 = a00, a31 = a00;
        FloatVector a40 = a00, a41 = a00;
        FloatVector a50 = a00, a51 = a00;
        FloatVector a60 = a00, a61 = a00;
        FloatVector a70 = a00, a71 = a00;
        for (int k = 0; k < cols; k++) {
            FloatVector x0 = FloatVector.fromArray(FLOATS, xt, k * stride + b);
            FloatVector x1 = FloatVector.fromArray(FLOATS, xt, k * stride + b + lanes);
            FloatVector w;
            w = FloatVector.broadcast(FLOATS, tile[k]);
            a00 = w.fma(x0, a00);
            a01 = w.fma(x1, a01);
            w = FloatVector.broadcast(FLOATS, tile[1 * cols + k]);
            a10 = w.fma(x0, a10);
            a11 = w.fma(x1, a11);
            w = FloatVector.broadcast(FLOATS, tile[2 * cols + k]);
            a20 = w.fma(x0, a20);
            a21 = w.fma(x1, a21);
            w = FloatVector.broadcast(FLOATS, tile[3 * cols + k]);
            a30 = w.fma(x0, a30);
            a31 = w.fma(x1, a31);
            w = FloatVector.broadcast(FLOATS, tile[4 * cols + k]);
            a40 = w.fma(x0, a40);
            a41 = w.fma(x1, a41);
            w = FloatVector.broadcast(FLOATS, tile[5 * cols + k]);
            a50 = w.fma(x0, a50);
            a51 = w.fma(x1, a51);
            w = FloatVector.broadcast(FLOATS, tile[6 * cols + k]);
            a60 = w.fma(x0, a60);
            a61 = w.fma(x1, a61);
            w = FloatVector.broadcast(FLOATS, tile[7 * cols + k]);
            a70 = w.fma(x0, a70);
            a71 = w.fma(x1, a71);
        }
        a00.intoArray(tile, resultsAt + 0 * lanes);
        a01.intoArray(tile, resultsAt + 1 * lanes);
        a10.intoArray(tile, resultsAt + 2 * lanes);
        a11.intoArray(tile, resultsAt + 3 * lanes);
        a20.intoArray(tile, resultsAt + 4 * lanes);
        a21.intoArray(tile, resultsAt + 5 * lanes);
        a30.intoArray(tile, resultsAt + 6 * lanes);
        a31.intoArray(tile, resultsAt + 7 * lanes);
        a40.intoArray(tile, resultsAt + 8 * lanes);
        a41.intoArray(tile, resultsAt + 9 * lanes);
        a50.intoArray(tile, resultsAt + 10 * lanes);
        a51.intoArray(tile, resultsAt + 11 * lanes);
        a60.intoArray(tile, resultsAt + 12 * lanes);
        a61.intoArray(tile, resultsAt + 13 * lanes);
        a70.intoArray(tile, resultsAt + 14 * lanes);
        a71.intoArray(tile, resultsAt + 15 * lanes);
    }

    /** Rows 0..7 of {@code tile} times the vector of tokens from b; results as {@link #eightRowsTimesTwoVectors} writes vector 0. */
    private static void eightRowsTimesOneVector(float[] tile, int cols, float[] xt, int stride, int b, int resultsAt) {
        int lanes = FLOATS.length();
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int k = 0; k < cols; k++) {
            FloatVector x = FloatVector.fromArray(FLOATS, xt, k * stride + b);
            a0 = FloatVector.broadcast(FLOATS, tile[k]).fma(x, a0);
            a1 = FloatVector.broadcast(FLOATS, tile[1 * cols + k]).fma(x, a1);
            a2 = FloatVector.broadcast(FLOATS, tile[2 * cols + k]).fma(x, a2);
            a3 = FloatVector.broadcast(FLOATS, tile[3 * cols + k]).fma(x, a3);
            a4 = FloatVector.broadcast(FLOATS, tile[4 * cols + k]).fma(x, a4);
            a5 = FloatVector.broadcast(FLOATS, tile[5 * cols + k]).fma(x, a5);
            a6 = FloatVector.broadcast(FLOATS, tile[6 * cols + k]).fma(x, a6);
            a7 = FloatVector.broadcast(FLOATS, tile[7 * cols + k]).fma(x, a7);
        }
        a0.intoArray(tile, resultsAt + 0 * lanes);
        a1.intoArray(tile, resultsAt + 2 * lanes);
        a2.intoArray(tile, resultsAt + 4 * lanes);
        a3.intoArray(tile, resultsAt + 6 * lanes);
        a4.intoArray(tile, resultsAt + 8 * lanes);
        a5.intoArray(tile, resultsAt + 10 * lanes);
        a6.intoArray(tile, resultsAt + 12 * lanes);
        a7.intoArray(tile, resultsAt + 14 * lanes);
    }

    /** Row {@code tile[rowAt, rowAt+cols)} times the vector of tokens from b. */
    private static FloatVector rowTimesVector(float[] tile, int rowAt, int cols, float[] xt, int stride, int b) {
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int k = 0; k < cols; k++) {
            acc = FloatVector.broadcast(FLOATS, tile[rowAt + k]).fma(FloatVector.fromArray(FLOATS, xt, k * stride + b), acc);
        }
        return acc;
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

    /**
     * gate[i] = silu(gate[i]) · up[i] = gate[i] / (1 + e^-gate[i]) · up[i] for i in [from, to): SwiGLU's gating,
     * with {@link #exp} (Math.exp is a call per element).
     */
    public static void siluGate(float[] gate, float[] up, int from, int to) {
        int i = from;
        for (int bound = from + FLOATS.loopBound(to - from); i < bound; i += FLOATS.length()) {
            FloatVector g = FloatVector.fromArray(FLOATS, gate, i);
            g.div(exp(g.neg()).add(1f)).mul(FloatVector.fromArray(FLOATS, up, i)).intoArray(gate, i);
        }
        for (; i < to; i++) {
            float g = gate[i];
            gate[i] = g / (1 + (float) Math.exp(-g)) * up[i];
        }
    }

    /** x[i] = e^(x[i] - shift) for i in [from, to); returns their sum (softmax's numerators and denominator). */
    public static float expShifted(float[] x, int from, int to, float shift) {
        FloatVector sum = FloatVector.zero(FLOATS);
        int i = from;
        for (int bound = from + FLOATS.loopBound(to - from); i < bound; i += FLOATS.length()) {
            FloatVector e = exp(FloatVector.fromArray(FLOATS, x, i).sub(shift));
            e.intoArray(x, i);
            sum = sum.add(e);
        }
        float total = sum.reduceLanes(VectorOperators.ADD);
        for (; i < to; i++) {
            x[i] = (float) Math.exp(x[i] - shift);
            total += x[i];
        }
        return total;
    }

    private static final float LOG2_E = 1.44269504f;
    /** ln 2 in two parts: the high one has zeros in its low mantissa bits, so n * LN2_HIGH is exact for |n| < 2^9. */
    private static final float LN2_HIGH = 0.693359375f;
    private static final float LN2_LOW = -2.12194440e-4f;
    /** 1.5 * 2^23: adding it rounds a float below 2^22 in magnitude to an integer, half to even. */
    private static final float ROUNDER = 12582912f;

    /**
     * e^x per lane, within 2 ulp of Math.exp for x in [-87, 88] (inputs outside are clamped there: e^-87 and
     * e^88 for what would underflow or overflow). x = n ln2 + r with |r| <= ln2/2, e^r by its Taylor series to
     * r^7 (the next term is below 2^-27 of it), times 2^n put into the exponent bits. The Vector API's own EXP
     * is a call into a math library where the JDK has one for the CPU (x86 SVML), and lane by lane Math.exp where
     * it has none: this one is the same few instructions on every CPU.
     */
    static FloatVector exp(FloatVector x) {
        x = x.max(-87f).min(88f);
        FloatVector n = x.fma(FloatVector.broadcast(FLOATS, LOG2_E), FloatVector.broadcast(FLOATS, ROUNDER)).sub(ROUNDER);
        FloatVector r = n.fma(FloatVector.broadcast(FLOATS, -LN2_HIGH), x);
        r = n.fma(FloatVector.broadcast(FLOATS, -LN2_LOW), r);
        FloatVector p = r.fma(FloatVector.broadcast(FLOATS, 1f / 5040), FloatVector.broadcast(FLOATS, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 0.5f));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 1f));
        p = p.fma(r, FloatVector.broadcast(FLOATS, 1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }
}
