package dev.tinyedge.kernels;

import dev.tinyedge.tensor.MatmulInput;

/**
 * The input vectors of the products that run together (a layer's Q, K and V, say), prepared once in every
 * form those products' kernels read ({@link InputForm}): as given or rounded to Q8_0 for the Vector API
 * kernels ({@link MatmulInput}), rounded into the native library's records for native ones.
 * {@link #begin}, then {@link #prepare} of every chunk (threads may share them); then read by many.
 */
public final class ProductInput {
    /** Elements per preparation chunk: one Q8_K super-block, eight Q8_0 blocks. */
    static final int CHUNK = 256;

    private final MatmulInput vectors;
    private final BlockInput blocks;
    private boolean preparingVectors;
    private boolean preparingBlocks;
    private int batch;
    private int cols;

    /** Input whose native forms {@code blocks} (null for none) prepares. */
    public ProductInput(int maxBatch, int maxCols, BlockInput blocks) {
        this.vectors = new MatmulInput(maxBatch, maxCols);
        this.blocks = blocks;
    }

    /** The forms the Vector API kernels read. */
    public MatmulInput vectors() {
        return vectors;
    }

    /**
     * Takes vectors x[b*cols, (b+1)*cols) for b < batch (a single one by reference: x must not change while in
     * use) for the products of kernels[0..count).
     */
    public void begin(float[] x, int batch, int cols, MatrixKernel[] kernels, int count) {
        boolean floats = false, shorts = false, q8_0 = false, q8_K = false;
        for (int i = 0; i < count; i++) {
            switch (kernels[i].input()) {
                case FLOATS -> floats = true;
                case Q8_0_SHORTS -> shorts = true;
                case Q8_0_BLOCKS -> q8_0 = true;
                case Q8_K_BLOCKS -> q8_K = true;
            }
        }
        this.batch = batch;
        this.cols = cols;
        preparingVectors = floats || shorts;
        if (preparingVectors) {
            vectors.begin(x, batch, cols, shorts, floats);
        } else {
            vectors.begin(x, batch, cols, false, false); // the vectors as given, by reference
        }
        preparingBlocks = (q8_0 || q8_K) && blocks != null;
        if (preparingBlocks) {
            blocks.begin(x, batch, cols, q8_0, q8_K);
        }
    }

    /** Units of preparation work: one per vector and 256 of its elements. */
    public int chunks() {
        return batch * chunksPerVector();
    }

    private int chunksPerVector() {
        return (cols + CHUNK - 1) / CHUNK;
    }

    /** Prepares chunks [from, to). */
    public void prepare(int from, int to) {
        if (preparingBlocks) {
            blocks.prepare(from, to);
        }
        if (preparingVectors) {
            int perVector = chunksPerVector();
            int blocksPerVector = (cols + MatmulInput.BLOCK - 1) / MatmulInput.BLOCK;
            int blocksPerChunk = CHUNK / MatmulInput.BLOCK;
            for (int c = from; c < to; c++) {
                int b = c / perVector;
                int first = c % perVector * blocksPerChunk;
                int end = Math.min(first + blocksPerChunk, blocksPerVector);
                vectors.prepare(b * blocksPerVector + first, b * blocksPerVector + end);
            }
        }
    }

    /** The native records, for the provider that made this input. */
    public BlockInput blocks() {
        return blocks;
    }
}
