package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

/**
 * Unpacks the 32 five-bit quants of a Q5_0 / Q5_1 block into two 16-lane byte vectors: low nibbles from
 * the 16 quant bytes, fifth bits from the block's little-endian u32 (bit j for weight j), which as a lane
 * mask selects the lanes that get 16 added.
 */
final class FifthBits {
    record Quants(ByteVector low, ByteVector high) {
    }

    private static final ByteVector SIXTEEN = ByteVector.broadcast(BlockVectors.B, (byte) 16);

    private FifthBits() {
    }

    /** Weights 0-15 and 16-31 of the block as values 0..31. */
    static Quants unpack(MemorySegment data, long highBitsOffset, long quantsOffset) {
        int bits = data.get(Q5_0Tensor.U32, highBitsOffset);
        ByteVector packed = BlockVectors.load16(data, quantsOffset);
        ByteVector low = packed.and((byte) 0xF).add(SIXTEEN, VectorMask.fromLong(BlockVectors.B, bits & 0xFFFF));
        ByteVector high = packed.lanewise(VectorOperators.LSHR, 4).add(SIXTEEN, VectorMask.fromLong(BlockVectors.B, bits >>> 16));
        return new Quants(low, high);
    }
}
