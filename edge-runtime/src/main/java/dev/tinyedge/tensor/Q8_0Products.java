package dev.tinyedge.tensor;

/**
 * Weights whose Vector API products take the input rounded to Q8_0 ({@link MatmulInput#quants} and
 * {@link MatmulInput#scales}), as llama.cpp's do for Q4_0 and Q8_0 (ggml's vec_dot_type for both), and
 * multiply it with integer arithmetic within each block.
 */
public sealed interface Q8_0Products permits Q4_0Tensor, Q8_0Tensor {

    /** Blocks [firstBlock, firstBlock+blocks) · the input vector. */
    float dotQ8_0(long firstBlock, MatmulInput in, int blocks);

    /**
     * The rows starting at blocks {@code firstBlockA} and {@code firstBlockB} · the input vector, into out[outA]
     * and out[outB], in one pass: two streams through memory, and the input's vectors loaded once for both. Only
     * at 256 bits and more ({@link MatmulInput#BLOCK_ORDER}): at 128 bits two rows' code is more than C2 inlines
     * into one method (NodeCountInliningCutoff) and runs on boxed vectors.
     */
    void dotQ8_0(long firstBlockA, long firstBlockB, MatmulInput in, int blocks, float[] out, int outA, int outB);
}
