package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;

/**
 * A tensor's entry in the file: {@code shape[0]} is the contiguous axis, so a weight of shape
 * [in, out] maps an {@code in}-vector to an {@code out}-vector. {@code offset} is relative to the data
 * section.
 */
public record GgufTensorInfo(String name, long[] shape, GgmlType type, long offset) {

    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    public long byteSize() {
        return type.byteSize(elementCount());
    }

    /** Rows of a matrix: every axis but the first. */
    public long rows() {
        return elementCount() / shape[0];
    }
}
