package dev.tinyedge.kernels.ffm;

import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One product for the native kernels to compute, and what the scalar reference says it is: the weights'
 * getFloat (the block layouts decoded one element at a time) times the input rounded by the reference
 * quantizer of llama.cpp's vec_dot_type (Q8_0 for Q4_0/Q8_0, Q8_K for the K-quants), summed in double.
 *
 * <p>An exact case has one power-of-two scale for all blocks of its weights, Q6_K sub-block scales below
 * 32, and inputs that round to themselves (small integers times a power of two, one 127 per block setting
 * the scale): every product, partial sum and scaling is then a multiple of one power of two below 2^24
 * of it, exact in float, so the kernels must give the reference bit for bit, whatever order they add in.
 * The other cases are the reference quantizers' encodings of Gaussian numbers, within 1e-5 of the sum of
 * the products' magnitudes.
 */
record KernelCase(GgmlType type, int rows, int cols, int batch, boolean exact, byte[] weights, float[] x,
                  float[] expected, float[] tolerance) {

    static final List<GgmlType> TYPES = List.of(GgmlType.Q4_0, GgmlType.Q8_0, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    /** The largest batch of {@link #all()}: past the 64 vectors that a rows-in-lanes kernel runs against at once. */
    static final int MAX_BATCH = 70;

    /**
     * Rows that are not multiples of the tiles, one block and several, single vectors and batches of odd sizes.
     * Products are computed in two halves of the rows, as two threads would: 29 rows give halves of 14 and 15,
     * which the kernels with eight rows in the lanes run as one group of eight and a rest, the second starting
     * at an odd row. A batch of 70 runs one panel of 64 vectors and one of 6.
     */
    static List<KernelCase> all() {
        List<KernelCase> cases = new ArrayList<>();
        long seed = 1;
        for (GgmlType type : TYPES) {
            int[] colsChoices = type.blockSize == 32 ? new int[] {32, 96, 288} : new int[] {256, 512};
            for (int rows : new int[] {1, 3, 5, 13, 29}) {
                for (int cols : colsChoices) {
                    for (int batch : new int[] {1, 2, 3, 4, 5, 9}) {
                        cases.add(make(type, rows, cols, batch, true, seed++));
                        cases.add(make(type, rows, cols, batch, false, seed++));
                    }
                }
            }
            int cols = colsChoices[colsChoices.length - 1];
            cases.add(make(type, 29, cols, MAX_BATCH, true, seed++));
            cases.add(make(type, 29, cols, MAX_BATCH, false, seed++));
        }
        return cases;
    }

    static KernelCase make(GgmlType type, int rows, int cols, int batch, boolean exact, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] w = exact ? exactWeights(type, rows * cols, random) : encode(type, gaussians(rows * cols, random));
        float[] x = exact ? exactInput(type, batch, cols, random) : gaussians(batch * cols, random);
        FloatTensor tensor = FloatTensor.of(type, MemorySegment.ofArray(w), (long) rows * cols);
        float[] expected = new float[batch * rows];
        float[] tolerance = new float[batch * rows];
        for (int b = 0; b < batch; b++) {
            double[] xq = type.blockSize == 32 ? roundToQ8_0(x, b * cols, cols) : roundToQ8_K(x, b * cols, cols);
            for (int r = 0; r < rows; r++) {
                double sum = 0, magnitude = 0;
                for (int i = 0; i < cols; i++) {
                    double p = tensor.getFloat((long) r * cols + i) * xq[i];
                    sum += p;
                    magnitude += Math.abs(p);
                }
                expected[b * rows + r] = (float) sum;
                tolerance[b * rows + r] = exact ? 0 : (float) (1e-5 * magnitude + 1e-6);
            }
        }
        return new KernelCase(type, rows, cols, batch, exact, w, x, expected, tolerance);
    }

    private static float[] gaussians(int n, SplittableRandom random) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) random.nextGaussian();
        }
        return x;
    }

    private static byte[] encode(GgmlType type, float[] x) {
        ByteBuffer buffer = ByteBuffer.allocate((int) type.byteSize(x.length)).order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor.encode(type, x, 0, x.length, buffer);
        return buffer.array();
    }

    /** Random quant bytes (any value a file may hold) with one power-of-two fp16 scale, 2^-3 .. 2^-6. */
    private static byte[] exactWeights(GgmlType type, int n, SplittableRandom random) {
        byte[] w = new byte[(int) type.byteSize(n)];
        random.nextBytes(w);
        ByteBuffer b = ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN);
        short d = powerOfTwo(random);
        for (int block = 0; block < n / type.blockSize; block++) {
            int at = block * type.typeSize;
            switch (type) {
                case Q4_0, Q8_0 -> b.putShort(at, d);
                case Q4_K, Q5_K -> b.putShort(at, d).putShort(at + 2, d);
                case Q6_K -> {
                    b.putShort(at + 208, d);
                    for (int s = 192; s < 208; s++) {
                        w[at + s] = (byte) (random.nextInt(64) - 32);
                    }
                }
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return w;
    }

    private static short powerOfTwo(SplittableRandom random) {
        return Float.floatToFloat16((float) Math.scalb(1.0, -3 - random.nextInt(4)));
    }

    /** Integers -3..3 times 1/4, the first of every 32 (so of every 256 too) 127/4: each block's scale is exactly 1/4. */
    private static float[] exactInput(GgmlType type, int batch, int cols, SplittableRandom random) {
        float[] x = new float[batch * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % cols % 32 == 0 ? 127 : random.nextInt(7) - 3) * 0.25f;
        }
        return x;
    }

    /** As llama.cpp's vectorized quantize_row_q8_0 (and MatmulInput): d = amax/127 stored as fp16, quants x/d rounded half to even. */
    static double[] roundToQ8_0(float[] x, int at, int n) {
        double[] out = new double[n];
        for (int k = 0; k < n; k += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[at + k + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            float scale = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                out[k + j] = (float) Math.rint(x[at + k + j] * id) * scale;
            }
        }
        return out;
    }

    /** ggml's quantize_row_q8_K_ref: iscale = -127/max (max the value of largest magnitude), q = min(127, nearest(iscale*x)), d = 1/iscale. */
    static double[] roundToQ8_K(float[] x, int at, int n) {
        double[] out = new double[n];
        for (int k = 0; k < n; k += 256) {
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++) {
                float ax = Math.abs(x[at + k + j]);
                if (ax > amax) {
                    amax = ax;
                    max = x[at + k + j];
                }
            }
            if (amax == 0) {
                continue;
            }
            float iscale = -127f / max;
            float d = 1 / iscale;
            for (int j = 0; j < 256; j++) {
                out[k + j] = Math.min(127, (int) Math.rint(iscale * x[at + k + j])) * d;
            }
        }
        return out;
    }

    /** This case in the format of check.c's CASES file. */
    void write(DataOutputStream out) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(5 * 4 + 8 + weights.length + 4 * (x.length + 2 * expected.length))
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type.id).putInt(rows).putInt(cols).putInt(batch).putInt(exact ? 1 : 0).putLong(weights.length).put(weights);
        for (float v : x) {
            b.putFloat(v);
        }
        for (float v : expected) {
            b.putFloat(v);
        }
        for (float v : tolerance) {
            b.putFloat(v);
        }
        out.write(b.array());
    }

    @Override
    public String toString() {
        return type + " " + rows + "x" + cols + " batch " + batch + (exact ? " exact" : "");
    }
}
