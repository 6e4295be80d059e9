package dev.tinyedge.kernels;

/** Input vectors rounded into a native library's records: the {@link InputForm#Q8_0_BLOCKS} and {@link InputForm#Q8_K_BLOCKS} forms. */
public interface BlockInput {

    /** Takes vectors x[b*cols, (b+1)*cols) for b < batch and the forms to prepare; nothing is rounded yet. */
    void begin(float[] x, int batch, int cols, boolean q8_0, boolean q8_K);

    /** Rounds chunks [from, to): chunk c is vector c / ceil(cols/256), its elements 256*(c % that) onwards. */
    void prepare(int from, int to);
}
