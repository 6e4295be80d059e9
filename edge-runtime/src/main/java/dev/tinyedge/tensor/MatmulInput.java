package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input vectors of a matrix product, as the weights' kernels take them. Like llama.cpp, products with
 * Q4_0 and Q8_0 weights take their input rounded to Q8_0 (ggml's vec_dot_type for both): a single vector is
 * multiplied with integer arithmetic on its 8-bit quants (two to four times less work per weight than
 * widening every weight to a float), and a batch multiplies float weights with the rounded values, which
 * gives the same numbers up to float rounding. F32 and F16 weights take the vectors as they are.
 *
 * <p>The quants are kept widened to shorts, ordered for the integer kernels: in block order at 256 bits
 * and more; at 128 bits (NEON) each block as weights {@code 2k, 2k+1, 2k+16, 2k+17} for k = 0..7, the
 * order in which a 16-byte load of a block's quants, read as 8 shorts, yields its weights.
 * Not thread-safe to {@link #set}; read by many threads once set.
 */
public final class MatmulInput {
    static final int BLOCK = 32;
    /** The integer kernels' width: 256 bits where the CPU has it, else 128 (NEON). */
    static final VectorShape SHAPE = Simd.vectorBits() >= 256 ? VectorShape.S_256_BIT : VectorShape.S_128_BIT;
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, SHAPE);
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, SHAPE);
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, SHAPE);
    /** Whether a block's 32 quants are in their own order (256 bits) or interleaved as above (128 bits). */
    static final boolean BLOCK_ORDER = SHORTS.length() == 16;

    /** A batch's vectors rounded to Q8_0, as floats. */
    private final float[] rounded;
    /** A single vector's Q8_0 quants, in the kernels' order, and its block scales. */
    final short[] quants;
    final float[] scales;
    float[] values;
    int batch;
    int cols;

    /** Room for {@code maxBatch} vectors of at most {@code maxCols} (a multiple of 32) elements. */
    public MatmulInput(int maxBatch, int maxCols) {
        int n = maxBatch * ((maxCols + BLOCK - 1) / BLOCK * BLOCK);
        rounded = new float[n];
        quants = new short[n];
        scales = new float[n / BLOCK];
    }

    /**
     * Takes vectors x[b*cols, (b+1)*cols) for b < batch (kept by reference: x must not change while in
     * use) and rounds them to Q8_0 as llama.cpp's vectorized quantize_row_q8_0 does on x86 and ARM (scale
     * amax/127 stored as fp16, quants x/scale rounded half to even; ggml's scalar reference quantizer rounds
     * halves away from zero, which the TinyLlama-shaped test models hit often); cols not a multiple of 32 leaves
     * the vectors unrounded, for float weights only.
     */
    public void set(float[] x, int batch, int cols) {
        this.values = x;
        this.batch = batch;
        this.cols = cols;
        if (cols % BLOCK != 0) {
            return;
        }
        for (int block = 0; block < batch * cols / BLOCK; block++) {
            int at = block * BLOCK;
            float amax = FloatVector.fromArray(Simd.FLOATS, x, at).abs().reduceLanes(VectorOperators.MAX);
            for (int i = Simd.FLOATS.length(); i < BLOCK; i += Simd.FLOATS.length()) {
                amax = Math.max(amax, FloatVector.fromArray(Simd.FLOATS, x, at + i).abs().reduceLanes(VectorOperators.MAX));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            float scale = Float.float16ToFloat(Float.floatToFloat16(d));
            scales[block] = scale;
            // a single vector goes to the integer kernels, a batch to the float ones
            if (batch == 1) {
                for (int j = 0; j < BLOCK; j++) {
                    quants[at + position(j)] = (short) Math.rint(x[at + j] * id);
                }
            } else {
                for (int j = 0; j < BLOCK; j++) {
                    rounded[at + j] = (float) Math.rint(x[at + j] * id) * scale;
                }
            }
        }
    }

    /** Where weight j of a block goes in the kernels' order. */
    private static int position(int j) {
        if (BLOCK_ORDER) {
            return j;
        }
        int half = j / 16; // 0: quants 0..15, 1: quants 16..31
        int k = (j % 16) / 2;
        return half * 16 + (j % 2) * 8 + k;
    }

    /** The vectors rounded to Q8_0, as floats (for a batch of more than one, when cols is a multiple of 32). */
    float[] rounded() {
        return rounded;
    }

    /** Adds each pair of adjacent shorts into an int: n/2 sums of two products, widened without overflow. */
    static IntVector pairSums(ShortVector products) {
        IntVector pairs = products.reinterpretAsInts();
        return pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16));
    }

    static FloatVector toFloats(IntVector sums) {
        return (FloatVector) sums.convert(VectorOperators.I2F, 0);
    }
}
