package dev.tinyedge.kernels;

/** What a product kernel takes its input vectors as; {@link ProductInput} prepares each form a product needs. */
public enum InputForm {
    /** The vectors as given (a batch also transposed, for the Vector API's batched kernel). */
    FLOATS,
    /** Rounded to Q8_0 and widened to shorts for the Vector API's integer kernels (Q4_0, Q8_0 weights). */
    Q8_0_SHORTS,
    /** Rounded to Q8_0 in the native library's records (Q4_0, Q8_0 weights, as llama.cpp's vec_dot_type). */
    Q8_0_BLOCKS,
    /** Rounded to Q8_K in the native library's records (Q4_K, Q5_K, Q6_K weights, as llama.cpp's vec_dot_type). */
    Q8_K_BLOCKS
}
