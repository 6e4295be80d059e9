package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Copies weight matrices from the file mapping to the device, once, at load.
 *
 * <p>Q4_0 and Q8_0 blocks are split into two arrays, quants and fp16 scales, as llama.cpp's OpenCL
 * backend does: neighbouring work-items then read neighbouring 16- or 32-byte runs instead of
 * 18- or 34-byte strides. After each copy the mapping's pages of that tensor are dropped
 * ({@link PageDropper}), so a model on a unified-memory board is held once, in the driver's
 * CL_MEM_ALLOC_HOST_PTR buffers, rather than twice.
 */
final class WeightLoader {
    private final ClContext cl;

    WeightLoader(ClContext cl) {
        this.cl = cl;
    }

    /** The matrix [rows][cols] of the given type held in {@code data} (ggml layout). */
    DeviceMatrix upload(GgmlType type, int rows, int cols, MemorySegment data) {
        long elements = (long) rows * cols;
        if (data.byteSize() != type.byteSize(elements)) { // a slice of exactly the tensor: its pages get dropped
            throw new IllegalArgumentException("tensor of " + data.byteSize() + " bytes is not " + type + " [" + rows
                    + "][" + cols + "]");
        }
        DeviceMatrix matrix = switch (type) {
            case F32, F16 -> new DeviceMatrix(type, rows, cols,
                    cl.constantBuffer(data.byteSize(), target -> target.copyFrom(data)), 0);
            case Q4_0, Q8_0 -> {
                long blocks = elements / 32;
                int quantBytes = type.typeSize - 2; // after each block's fp16 scale
                long quants = cl.constantBuffer(blocks * quantBytes, target -> {
                    for (long b = 0; b < blocks; b++) {
                        MemorySegment.copy(data, b * type.typeSize + 2, target, b * quantBytes, quantBytes);
                    }
                });
                long scales = cl.constantBuffer(blocks * 2, target -> {
                    for (long b = 0; b < blocks; b++) {
                        MemorySegment.copy(data, b * type.typeSize, target, b * 2, 2);
                    }
                });
                yield new DeviceMatrix(type, rows, cols, quants, scales);
            }
            default -> throw new IllegalArgumentException("no OpenCL kernels for " + type);
        };
        PageDropper.drop(data);
        return matrix;
    }

    /** A float vector (norm weights) from F32 data. */
    long uploadVector(MemorySegment f32) {
        long buffer = cl.constantBuffer(f32.byteSize(), target -> target.copyFrom(f32));
        PageDropper.drop(f32);
        return buffer;
    }
}
