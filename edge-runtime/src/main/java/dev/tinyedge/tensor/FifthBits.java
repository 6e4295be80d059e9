package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;

import java.lang.foreign.MemorySegment;

/**
 * Unpacks the 32 five-bit quants of a Q5_0 / Q5_1 block into two 16-lane byte vectors: low nibbles from
 * the 16 quant bytes, fifth bits from the block's u32 (bit j for weight j). The u32's bytes are spread
 * so that lane j sees byte j/8, then each lane shifts by j%8.
 */
final class FifthBits {
    record Quants(ByteVector low, ByteVector high) {
    }

    private static final VectorShuffle<Byte> BYTES_0_1 = VectorShuffle.fromOp(BlockVectors.B, lane -> lane / 8);
    private static final VectorShuffle<Byte> BYTES_2_3 = VectorShuffle.fromOp(BlockVectors.B, lane -> 2 + lane / 8);
    private static final ByteVector LANE_BIT = ByteVector.zero(BlockVectors.B).addIndex(1).and((byte) 7);

    private FifthBits() {
    }

    /**
     * Weights 0-15 and 16-31 of the block as values 0..31. Reads 16 bytes from highBitsOffset, which the
     * block always has: its 4 fifth-bit bytes are followed by 16 quant bytes.
     */
    static Quants unpack(MemorySegment data, long highBitsOffset, long quantsOffset) {
        ByteVector bits = BlockVectors.load16(data, highBitsOffset);
        ByteVector packed = BlockVectors.load16(data, quantsOffset);
        ByteVector low = packed.and((byte) 0xF).or(fifth(bits.rearrange(BYTES_0_1)));
        ByteVector high = packed.lanewise(VectorOperators.LSHR, 4).or(fifth(bits.rearrange(BYTES_2_3)));
        return new Quants(low, high);
    }

    private static ByteVector fifth(ByteVector spread) {
        return spread.lanewise(VectorOperators.LSHR, LANE_BIT).and((byte) 1).lanewise(VectorOperators.LSHL, 4);
    }
}
