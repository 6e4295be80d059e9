package dev.tinyedge.kernels;

import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tensor.MatmulInput;
import dev.tinyedge.tensor.Q8_0Products;
import dev.tinyedge.tensor.Simd;

/**
 * The Vector API kernels: every type, at the CPU's vector width ({@link Simd}). Q4_0 and Q8_0 weights take
 * the input rounded to Q8_0 and multiply it in integer lanes; the other types take it as given.
 *
 * <p>A single vector goes through a fused decode-and-dot kernel per row, a batch through a tile of rows
 * decoded to floats once and multiplied into the transposed input ({@link Simd#tileTimesTransposed}). The
 * forward pass calls the two from separate call sites: a method that inlines both kernels is more than C2
 * inlines into one compilation (NodeCountInliningCutoff), and the batched one then runs on boxed vectors,
 * several times slower.
 */
public final class JavaKernels implements KernelProvider {
    public static final JavaKernels INSTANCE = new JavaKernels();

    private static final MatrixKernel FLOAT_INPUT = new FloatInput();
    private static final MatrixKernel Q8_0_INPUT = MatmulInput.BLOCK_ORDER ? new RowPairs() : new SingleRows();

    private JavaKernels() {
    }

    @Override
    public String description() {
        return "java " + Simd.vectorBits() + "-bit";
    }

    @Override
    public MatrixKernel kernel(GgmlType type) {
        return type == GgmlType.Q4_0 || type == GgmlType.Q8_0 ? Q8_0_INPUT : FLOAT_INPUT;
    }

    @Override
    public ProductInput newInput(int maxBatch, int maxCols) {
        return new ProductInput(maxBatch, maxCols, null);
    }

    @Override
    public int scratchSize(int cols) {
        return Simd.tileScratchSize(cols);
    }

    /** A tile of rows decoded once, each weight multiplied into a float vector of tokens of the transposed input. */
    private static void batch(FloatTensor weights, MatmulInput in, boolean rounded, float[] out, int outOffset, int rows,
                              int rowStart, int rowEnd, float[] scratch) {
        int cols = in.cols();
        float[] transposed = in.transposed(rounded);
        for (int tile = rowStart; tile < rowEnd; tile += Simd.TILE_ROWS) {
            int tileRows = Math.min(Simd.TILE_ROWS, rowEnd - tile);
            for (int i = 0; i < tileRows; i++) {
                weights.dequantize((long) (tile + i) * cols, scratch, i * cols, cols);
            }
            Simd.tileTimesTransposed(scratch, tileRows, cols, transposed, in.stride(), in.batch(), out, outOffset + tile, rows);
        }
    }

    /** Weights that take the input as given: a vectorized dot product per row. */
    private static final class FloatInput implements MatrixKernel {
        @Override
        public boolean compiledAtRunTime() {
            return true;
        }

        @Override
        public InputForm input() {
            return InputForm.FLOATS;
        }

        @Override
        public void vectorRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rowStart, int rowEnd) {
            MatmulInput x = in.vectors();
            int cols = x.cols();
            for (int r = rowStart; r < rowEnd; r++) {
                out[outOffset + r] = weights.dot((long) r * cols, x.values(), 0, cols);
            }
        }

        @Override
        public void batchRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rows, int rowStart,
                              int rowEnd, float[] scratch) {
            batch(weights, in.vectors(), false, out, outOffset, rows, rowStart, rowEnd, scratch);
        }
    }

    /** Q4_0 and Q8_0 at 128 bits: integer dot products, a row at a time. */
    private static class SingleRows implements MatrixKernel {
        @Override
        public boolean compiledAtRunTime() {
            return true;
        }

        @Override
        public InputForm input() {
            return InputForm.Q8_0_SHORTS;
        }

        @Override
        public void vectorRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rowStart, int rowEnd) {
            MatmulInput x = in.vectors();
            int blocks = x.cols() / MatmulInput.BLOCK;
            Q8_0Products w = (Q8_0Products) weights;
            for (int r = rowStart; r < rowEnd; r++) {
                out[outOffset + r] = w.dotQ8_0((long) r * blocks, x, blocks);
            }
        }

        @Override
        public void batchRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rows, int rowStart,
                              int rowEnd, float[] scratch) {
            batch(weights, in.vectors(), true, out, outOffset, rows, rowStart, rowEnd, scratch);
        }
    }

    /** Q4_0 and Q8_0 at 256 bits and more: rows paired from the two halves of the range, two streams through memory. */
    private static final class RowPairs extends SingleRows {
        @Override
        public void vectorRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rowStart, int rowEnd) {
            MatmulInput x = in.vectors();
            int blocks = x.cols() / MatmulInput.BLOCK;
            Q8_0Products w = (Q8_0Products) weights;
            int half = (rowEnd - rowStart + 1) / 2;
            for (int a = rowStart, b = rowStart + half; b < rowEnd; a++, b++) {
                w.dotQ8_0((long) a * blocks, (long) b * blocks, x, blocks, out, outOffset + a, outOffset + b);
            }
            if ((rowEnd - rowStart) % 2 == 1) {
                int last = rowStart + half - 1;
                out[outOffset + last] = w.dotQ8_0((long) last * blocks, x, blocks);
            }
        }
    }
}
