package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.EnumSet;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A flat run of {@code size} numbers stored in one ggml type, read in place from a memory segment (for
 * model weights: a slice of the file mapping, never copied to the heap). Matrices are row-major with
 * ggml's convention: a [cols, rows] tensor has rows of {@code cols} contiguous elements, and row r starts
 * at element {@code r * cols}. Offsets of quantized rows are multiples of the block size.
 */
public abstract sealed class FloatTensor permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor, Q4_1Tensor,
        Q5_0Tensor, Q5_1Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {
    static final VectorSpecies<Float> F = Simd.FLOATS;
    static final ValueLayout.OfShort HALF = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final MemorySegment data;
    final long size;

    FloatTensor(MemorySegment data, long size) {
        if (size % type().blockSize != 0 || data.byteSize() < type().byteSize(size)) {
            throw new IllegalArgumentException(type() + " tensor of " + size + " elements needs "
                    + type().byteSize(size) + " bytes, got " + data.byteSize());
        }
        this.data = data.asSlice(0, type().byteSize(size));
        this.size = size;
    }

    /** The bytes in ggml's layout, in place (for a GPU backend that uploads them). */
    public final MemorySegment data() {
        return data;
    }

    /** Views {@code data} as {@code size} numbers of {@code type}. */
    public static FloatTensor of(GgmlType type, MemorySegment data, long size) {
        return switch (type) {
            case F32 -> new F32Tensor(data, size);
            case F16 -> new F16Tensor(data, size);
            case Q8_0 -> new Q8_0Tensor(data, size);
            case Q4_0 -> new Q4_0Tensor(data, size);
            case BF16 -> new BF16Tensor(data, size);
            case Q4_1 -> new Q4_1Tensor(data, size);
            case Q5_0 -> new Q5_0Tensor(data, size);
            case Q5_1 -> new Q5_1Tensor(data, size);
            case Q4_K -> new Q4_KTensor(data, size);
            case Q5_K -> new Q5_KTensor(data, size);
            case Q6_K -> new Q6_KTensor(data, size);
            default -> throw new IllegalArgumentException("tensor type " + type + " is not supported (supported: "
                    + supportedTypes() + ")");
        };
    }

    /** The types tinyedge reads and writes; the rest of ggml's (Q2_K, Q3_K, the IQ types...) it refuses by name. */
    private static final Set<GgmlType> SUPPORTED = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0,
            GgmlType.Q4_0, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K);

    public static String supportedTypes() {
        return SUPPORTED.stream().map(GgmlType::name).collect(Collectors.joining(", "));
    }

    public static boolean isSupported(GgmlType type) {
        return SUPPORTED.contains(type);
    }

    /**
     * Appends x[xOffset, xOffset+n) to {@code out} in {@code type}'s layout (quantizing like ggml's reference
     * quantizers); n is a multiple of the type's block size.
     */
    public static void encode(GgmlType type, float[] x, int xOffset, int n, ByteBuffer out) {
        switch (type) {
            case F32 -> F32Tensor.write(x, xOffset, n, out);
            case F16 -> F16Tensor.write(x, xOffset, n, out);
            case Q8_0 -> Q8_0Tensor.quantize(x, xOffset, n, out);
            case Q4_0 -> Q4_0Tensor.quantize(x, xOffset, n, out);
            case BF16 -> BF16Tensor.write(x, xOffset, n, out);
            case Q4_1 -> Q4_1Tensor.quantize(x, xOffset, n, out);
            case Q5_0 -> Q5_0Tensor.quantize(x, xOffset, n, out);
            case Q5_1 -> Q5_1Tensor.quantize(x, xOffset, n, out);
            case Q4_K -> Q4_KTensor.quantize(x, xOffset, n, out);
            case Q5_K -> Q5_KTensor.quantize(x, xOffset, n, out);
            case Q6_K -> Q6_KTensor.quantize(x, xOffset, n, out);
            default -> throw new IllegalArgumentException("cannot write " + type + " tensors (supported: " + supportedTypes() + ")");
        }
    }

    public abstract GgmlType type();

    public final long size() {
        return size;
    }

    /** Element {@code index}, decoded one at a time (slow; for tests, references and small vectors). */
    public abstract float getFloat(long index);

    /** This tensor's elements [offset, offset+n) · x[xOffset, xOffset+n), vectorized. */
    public abstract float dot(long offset, float[] x, int xOffset, int n);

    /** Decodes elements [offset, offset+n) into out[outOffset..]. */
    public abstract void dequantize(long offset, float[] out, int outOffset, int n);

    static FloatVector broadcast(float value) {
        return FloatVector.broadcast(F, value);
    }

    @Override
    public String toString() {
        return type() + "[" + size + "]";
    }
}
