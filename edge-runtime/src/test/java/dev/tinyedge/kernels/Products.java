package dev.tinyedge.kernels;

import dev.tinyedge.tensor.FloatTensor;

/** Runs one matrix product through a provider's kernel the way the forward pass does, rows split as threads would split them. */
public final class Products {
    private final KernelProvider provider;
    private final ProductInput input;
    private final float[] scratch;
    private final MatrixKernel[] kernel = new MatrixKernel[1];

    public Products(KernelProvider provider, int maxBatch, int maxCols) {
        this.provider = provider;
        this.input = provider.newInput(maxBatch, maxCols);
        this.scratch = new float[provider.scratchSize(maxCols)];
    }

    /**
     * out[outOffset + b*rows + r] = row r of w · x_b for the batch's vectors x[b*cols..], rows computed in the
     * ranges [0, splits[0]), [splits[0], splits[1]), ..., [last, rows).
     */
    public void multiply(FloatTensor w, float[] x, int batch, int cols, float[] out, int outOffset, int rows, int... splits) {
        kernel[0] = provider.kernel(w.type());
        input.begin(x, batch, cols, kernel, 1);
        int chunks = input.chunks();
        input.prepare(0, chunks / 2); // in two parts, as two threads would
        input.prepare(chunks / 2, chunks);
        int from = 0;
        for (int i = 0; i <= splits.length; i++) {
            int to = i < splits.length ? splits[i] : rows;
            if (batch == 1) {
                kernel[0].vectorRows(w, input, out, outOffset, from, to);
            } else {
                kernel[0].batchRows(w, input, out, outOffset, rows, from, to, scratch);
            }
            from = to;
        }
    }
}
