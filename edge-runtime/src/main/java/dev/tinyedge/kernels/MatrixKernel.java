package dev.tinyedge.kernels;

import dev.tinyedge.tensor.FloatTensor;

/**
 * The products of one weight type with input vectors, as one {@link KernelProvider} computes them. A weight
 * matrix of [cols, rows] has rows of cols contiguous elements; results go to out[outOffset + b*rows + r] for
 * vector b and row r. Threads share a product by rows: each calls with its own range.
 */
public interface MatrixKernel {

    /**
     * Whether this kernel is Java code that the JIT compiles as it runs (slow until then: worth a warm-up
     * before the first request), rather than machine code compiled ahead.
     */
    boolean compiledAtRunTime();

    /** The form in which this kernel reads the input: {@link ProductInput} prepares it before the product. */
    InputForm input();

    /** Rows [rowStart, rowEnd) of the product with a single vector (decode): out[outOffset + r]. */
    void vectorRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rowStart, int rowEnd);

    /**
     * Rows [rowStart, rowEnd) of the product with a batch of vectors (prefill): out[outOffset + b*rows + r];
     * {@code scratch} is the calling thread's, {@link KernelProvider#scratchSize} long.
     */
    void batchRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rows, int rowStart, int rowEnd,
                   float[] scratch);
}
