package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;

import java.lang.foreign.MemorySegment;

/**
 * Copies weight matrices from the file mapping to the device, once, at load, in the layouts of blocks.cl.
 *
 * <p>Q4_0 and Q8_0 blocks are split into two arrays, quants and fp16 scales, as llama.cpp's OpenCL
 * backend does: neighbouring work-items then read neighbouring 16- or 32-byte runs instead of
 * 18- or 34-byte strides. Q6_K's trailing fp16 scale moves to its own array for the same reason (210-byte
 * blocks become 16-byte aligned 208-byte ones); Q4_K (144 bytes) and Q5_K (176) are aligned as they are. After each copy the mapping's pages of that tensor are dropped
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
            case F32, F16, Q4_K, Q5_K -> new DeviceMatrix(type, rows, cols,
                    cl.constantBuffer(data.byteSize(), target -> target.copyFrom(data)), 0);
            case Q4_0, Q8_0 -> split(type, rows, cols, data, 0); // each block's fp16 scale comes first
            case Q6_K -> split(type, rows, cols, data, type.typeSize - 2); // ... or last
            default -> throw new IllegalArgumentException("no OpenCL kernels for " + type);
        };
        PageDropper.drop(data);
        return matrix;
    }

    /** Blocks of {@code type} split into the bytes around their fp16 scale (values) and the scales. */
    private DeviceMatrix split(GgmlType type, int rows, int cols, MemorySegment data, int scaleOffset) {
        long blocks = (long) rows * cols / type.blockSize;
        int rest = type.typeSize - 2;
        long values = cl.constantBuffer(blocks * rest, target -> {
            for (long b = 0; b < blocks; b++) {
                long block = b * type.typeSize;
                MemorySegment.copy(data, block, target, b * rest, scaleOffset);
                MemorySegment.copy(data, block + scaleOffset + 2, target, b * rest + scaleOffset, rest - scaleOffset);
            }
        });
        long scales = cl.constantBuffer(blocks * 2, target -> {
            for (long b = 0; b < blocks; b++) {
                MemorySegment.copy(data, b * type.typeSize + scaleOffset, target, b * 2, 2);
            }
        });
        return new DeviceMatrix(type, rows, cols, values, scales);
    }

    /** A float vector (norm weights) from F32 data. */
    long uploadVector(MemorySegment f32) {
        long buffer = cl.constantBuffer(f32.byteSize(), target -> target.copyFrom(f32));
        PageDropper.drop(f32);
        return buffer;
    }
}
