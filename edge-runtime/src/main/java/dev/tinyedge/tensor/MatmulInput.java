package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * The input vectors of a matrix product, as the weights' kernels take them. Like llama.cpp, products with
 * Q4_0 and Q8_0 weights take their input rounded to Q8_0 (ggml's vec_dot_type for both); other weight
 * types take the vectors as they are.
 *
 * <p>A single vector (decode) is multiplied with integer arithmetic on its 8-bit quants (two to four times
 * less work per weight than widening every weight to a float). The quants are kept widened to shorts,
 * ordered for the integer kernels: in block order at 256 bits and more; at 128 bits (NEON) each block as
 * weights {@code 2k, 2k+1, 2k+16, 2k+17} for k = 0..7, the order in which a 16-byte load of a block's
 * quants, read as 8 shorts, yields its weights. (Widening the quant bytes to float lanes instead was
 * faster on one AVX-512 thread but slower on two and four: bench/RESULTS.md.)
 * A batch (prefill) is kept transposed, element k of every vector side by side ({@link #transposed}), so
 * the batched kernel multiplies one weight into a whole float vector of tokens.
 * {@link #begin} is for one thread; {@link #prepare} of disjoint chunks for many; once prepared, it is read by many.
 */
public final class MatmulInput {
    public static final int BLOCK = 32;
    /** The integer kernels' width: 256 bits where the CPU has it, else 128 (NEON). */
    static final VectorShape SHAPE = Simd.vectorBits() >= 256 ? VectorShape.S_256_BIT : VectorShape.S_128_BIT;
    static final VectorSpecies<Short> SHORTS = VectorSpecies.of(short.class, SHAPE);
    static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, SHAPE);
    static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, SHAPE);
    /** Whether a block's 32 quants are in their own order (256 bits) or interleaved as above (128 bits). */
    public static final boolean BLOCK_ORDER = SHORTS.length() == 16;

    /** A single vector's Q8_0 quants, in the integer kernels' order, and its block scales. */
    final short[] quants;
    final float[] scales;
    /**
     * For Q4_0 weights: per block, one short per lane of the integer kernel, -8 times the quants that lane
     * multiplies (weights stay as stored nibbles 0..15 and this one add stands for subtracting 8 from each).
     */
    final short[] q4Bias;
    /** A batch transposed: element k of vector b at [k * stride + b], the lanes past the batch zero. */
    private final float[] transposedValues;
    /** The same, rounded to Q8_0 (when cols is a multiple of 32). */
    private final float[] transposedRounded;
    float[] values;
    int batch;
    int cols;
    /** The transposed batch's row length: the batch rounded up to whole float vectors. */
    int stride;
    /** What {@link #prepare} makes of the vectors: their Q8_0 rounding, and a batch's transposed copy as given. */
    private boolean rounding;
    private boolean transposingValues;

    /** Room for {@code maxBatch} vectors of at most {@code maxCols} (a multiple of 32) elements. */
    public MatmulInput(int maxBatch, int maxCols) {
        int paddedCols = (maxCols + BLOCK - 1) / BLOCK * BLOCK;
        quants = new short[paddedCols];
        scales = new float[paddedCols / BLOCK];
        q4Bias = new short[paddedCols / BLOCK * SHORTS.length()];
        int transposedSize = maxBatch > 1 ? paddedCols * roundUpToVectors(maxBatch) : 0;
        transposedValues = new float[transposedSize];
        transposedRounded = new float[transposedSize];
    }

    private static int roundUpToVectors(int n) {
        int lanes = Simd.FLOATS.length();
        return (n + lanes - 1) / lanes * lanes;
    }

    /**
     * Takes vectors x[b*cols, (b+1)*cols) for b < batch (a single one kept by reference: x must not change
     * while in use) and prepares them for weights of any type: {@link #begin}, then {@link #prepare} of every
     * chunk.
     */
    public void set(float[] x, int batch, int cols) {
        begin(x, batch, cols, true, true);
        prepare(0, chunks());
    }

    /**
     * Takes the vectors as {@link #set} does, preparing only the forms the products ahead read: their Q8_0
     * rounding ({@code rounded}, for {@link Q8_0Products}; when cols is a multiple of 32) and a batch's
     * transposed copy as given ({@code asGiven}, for weights that take float input): a Q4_0 model's products
     * need no unrounded copy, an F32 model's no rounding. Their preparation follows in {@link #prepare}.
     */
    public void begin(float[] x, int batch, int cols, boolean rounded, boolean asGiven) {
        this.values = x;
        this.batch = batch;
        this.cols = cols;
        this.stride = roundUpToVectors(batch);
        this.rounding = rounded && cols % BLOCK == 0;
        this.transposingValues = asGiven && batch > 1;
        if (batch > 1) {
            for (int k = 0; k < cols; k++) {
                for (int b = batch; b < stride; b++) {
                    transposedValues[k * stride + b] = 0;
                    transposedRounded[k * stride + b] = 0;
                }
            }
        }
    }

    /** Units of preparation work, which threads may share: one per vector and block of 32 of its elements. */
    public int chunks() {
        return batch * ((cols + BLOCK - 1) / BLOCK);
    }

    /**
     * Prepares chunks [from, to): transposes a batch, and rounds to Q8_0 as llama.cpp's vectorized
     * quantize_row_q8_0 does on x86 and ARM (scale amax/127 stored as fp16, quants x/scale rounded half to
     * even; ggml's scalar reference quantizer rounds halves away from zero, which the TinyLlama-shaped test
     * models hit often); cols not a multiple of 32 leaves the vectors unrounded, for float weights only.
     */
    public void prepare(int from, int to) {
        float[] x = values;
        int blocksPerVector = (cols + BLOCK - 1) / BLOCK;
        for (int chunk = from; chunk < to; chunk++) {
            int b = chunk / blocksPerVector;
            int k = chunk % blocksPerVector * BLOCK;
            int at = b * cols + k;
            if (transposingValues) {
                for (int j = 0; j < Math.min(BLOCK, cols - k); j++) {
                    transposedValues[(k + j) * stride + b] = x[at + j];
                }
            }
            if (rounding) {
                round(x, at, chunk, b, k);
            }
        }
    }

    /** Rounds block {@code block} of the vectors, at x[at..at+32): vector b's elements k..k+31. */
    private void round(float[] x, int at, int block, int b, int k) {
        float amax = FloatVector.fromArray(Simd.FLOATS, x, at).abs().reduceLanes(VectorOperators.MAX);
        for (int i = Simd.FLOATS.length(); i < BLOCK; i += Simd.FLOATS.length()) {
            amax = Math.max(amax, FloatVector.fromArray(Simd.FLOATS, x, at + i).abs().reduceLanes(VectorOperators.MAX));
        }
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        float scale = Float.float16ToFloat(Float.floatToFloat16(d));
        if (batch > 1) {
            for (int j = 0; j < BLOCK; j++) {
                transposedRounded[(k + j) * stride + b] = (float) Math.rint(x[at + j] * id) * scale;
            }
        } else {
            scales[block] = scale;
            int biasAt = block * SHORTS.length();
            Arrays.fill(q4Bias, biasAt, biasAt + SHORTS.length(), (short) 0);
            for (int j = 0; j < BLOCK; j++) {
                int lane = BLOCK_ORDER ? j : interleaved(j);
                short quant = (short) Math.rint(x[at + j] * id);
                quants[at + lane] = quant;
                q4Bias[biasAt + lane % SHORTS.length()] -= (short) (8 * quant);
            }
        }
    }

    public int batch() {
        return batch;
    }

    public int cols() {
        return cols;
    }

    /** The vectors as given (a single one by reference). */
    public float[] values() {
        return values;
    }

    /** The transposed batch's row length: the batch rounded up to whole float vectors. */
    public int stride() {
        return stride;
    }

    /** The batch transposed (see {@link #stride}), rounded to Q8_0 or as given. */
    public float[] transposed(boolean roundedToQ8_0) {
        return roundedToQ8_0 && cols % BLOCK == 0 ? transposedRounded : transposedValues;
    }

    /** Where weight j of a block goes in the integer kernels' order. */
    static int interleaved(int j) {
        int half = j / 16; // 0: quants 0..15, 1: quants 16..31
        int k = (j % 16) / 2;
        return half * 16 + (j % 2) * 8 + k;
    }

    /** Adds each pair of adjacent shorts into an int: n/2 sums of two products, widened without overflow. */
    static IntVector pairSums(ShortVector products) {
        IntVector pairs = products.reinterpretAsInts();
        return pairs.lanewise(VectorOperators.LSHL, 16).lanewise(VectorOperators.ASHR, 16)
                .add(pairs.lanewise(VectorOperators.ASHR, 16));
    }

    /**
     * {@link #pairSums} in three operations instead of four, for lanes whose adjacent pairs sum to less than
     * 2^15 in magnitude (Q4_0's products; not Q8_0's): the high half of {@code i + (i << 16)} is the pair's sum.
     */
    static IntVector smallPairSums(ShortVector products) {
        IntVector pairs = products.reinterpretAsInts();
        return pairs.add(pairs.lanewise(VectorOperators.LSHL, 16)).lanewise(VectorOperators.ASHR, 16);
    }

    static FloatVector toFloats(IntVector sums) {
        return (FloatVector) sums.convert(VectorOperators.I2F, 0);
    }
}
