package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What the dot products of the 32- and 256-weight block types share: 16-byte loads of packed quants, and
 * the step that widens 16 small integers to floats of the run-time species ({@link Simd#FLOATS}: 4 lanes
 * on a 128-bit NEON board, 8 or 16 on x86), scales them into weights and multiplies them into an
 * accumulator.
 */
final class BlockVectors {
    private static final VectorSpecies<Float> F = Simd.FLOATS;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Packed quants are always read 16 bytes at a time: every layout here groups them by 16 or 32. */
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;

    private BlockVectors() {
    }

    static ByteVector load16(MemorySegment data, long offset) {
        return ByteVector.fromMemorySegment(B, data, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * As many bytes from {@code offset} as a float vector has lanes, zero-extended into int lanes of the same
     * width: for unpacking bit fields with shifts x86 has (it has none for bytes). At least 8 lanes (256 bits).
     */
    static IntVector loadUnsigned(MemorySegment data, long offset) {
        VectorSpecies<Byte> bytes = F.length() == 16 ? ByteVector.SPECIES_128 : ByteVector.SPECIES_64;
        return (IntVector) ByteVector.fromMemorySegment(bytes, data, offset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.ZERO_EXTEND_B2I, I, 0);
    }

    /** acc + Σ (q[i]·scale + bias)·x[xOffset + i] over the lanes of q, one float vector of them. */
    static FloatVector accumulate(IntVector q, float scale, float bias, float[] x, int xOffset, FloatVector acc) {
        FloatVector weights = ((FloatVector) q.convert(VectorOperators.I2F, 0))
                .fma(FloatVector.broadcast(F, scale), FloatVector.broadcast(F, bias));
        return weights.fma(FloatVector.fromArray(F, x, xOffset), acc);
    }

    /**
     * acc + Σ (q[i]·scale + bias)·x[xOffset + i] over the 16 byte lanes of q (signed values), spread over
     * as many float vectors as the species needs.
     */
    static FloatVector accumulate(ByteVector q, float scale, float bias, float[] x, int xOffset, FloatVector acc) {
        FloatVector scales = FloatVector.broadcast(F, scale);
        FloatVector biases = FloatVector.broadcast(F, bias);
        int lanes = F.length();
        for (int part = 0; part < B.length() / lanes; part++) {
            FloatVector weights = ((FloatVector) q.castShape(F, part)).fma(scales, biases);
            acc = weights.fma(FloatVector.fromArray(F, x, xOffset + part * lanes), acc);
        }
        return acc;
    }

    /** out[outOffset + i] = q[i]·scale over the 16 lanes of q, rounded as the scalar product is. */
    static void store(ByteVector q, float scale, float[] out, int outOffset) {
        int lanes = F.length();
        for (int part = 0; part < B.length() / lanes; part++) {
            ((FloatVector) q.castShape(F, part)).mul(scale).intoArray(out, outOffset + part * lanes);
        }
    }

    /** out[outOffset + i] = q[i]·scale + bias, with two roundings like ggml's scalar dequantization. */
    static void store(ByteVector q, float scale, float bias, float[] out, int outOffset) {
        int lanes = F.length();
        for (int part = 0; part < B.length() / lanes; part++) {
            ((FloatVector) q.castShape(F, part)).mul(scale).add(bias).intoArray(out, outOffset + part * lanes);
        }
    }

    /** The next {@code bytes} of {@code out} as a segment to write blocks into; moves out's position past them. */
    static MemorySegment claim(ByteBuffer out, long bytes) {
        MemorySegment blocks = MemorySegment.ofBuffer(out).asSlice(0, bytes);
        out.position(Math.toIntExact(out.position() + bytes));
        return blocks;
    }

    static float f16(MemorySegment data, long offset) {
        return Float16.toFloat(data.get(FloatTensor.HALF, offset));
    }

    static void putF16(MemorySegment data, long offset, float value) {
        data.set(FloatTensor.HALF, offset, Float16.fromFloat(value));
    }
}
