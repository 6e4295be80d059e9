package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;

/**
 * A weight matrix [rows][cols] on the device, in the layout blocks.cl describes: F32, F16, Q4_K and Q5_K as
 * ggml stores them, in {@code values} alone; Q4_0 and Q8_0 split into quants ({@code values}) and fp16 scales
 * ({@code scales}); Q6_K as 208-byte blocks ({@code values}) and their fp16 scales ({@code scales}). See
 * {@link WeightLoader}. {@code scales} is 0 where there are none.
 */
public record DeviceMatrix(GgmlType type, int rows, int cols, long values, long scales) {

    /** Bytes a product reads of it: its size in the file. */
    public long bytes() {
        return type.byteSize((long) rows * cols);
    }
}
