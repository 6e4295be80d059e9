package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's block_q4_0: blocks of 32 weights stored as {@code {fp16 d; uint8 qs[16]}} (18 bytes). The low
 * nibble of qs[j] is weight j, the high nibble weight j+16; a weight is {@code (nibble - 8) * d}.
 */
public final class Q4_0Tensor extends FloatTensor implements Q8_0Products {
    static final int BLOCK = GgmlType.Q4_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q4_0.typeSize;
    /** The quants follow the fp16 scale d. */
    private static final int QS = Short.BYTES;
    private static final int PACKED = BLOCK / 2;
    /**
     * Nibble bytes per load: half as many bytes as float-vector bits (so the low and the high nibbles each
     * widen to two float vectors), but at most the 16 a block has (at 512 bits, one load and one part each).
     */
    private static final VectorSpecies<Byte> NIBBLES = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.min(F.vectorBitSize() / 2, PACKED * 8)));
    private static final int PARTS = NIBBLES.length() / F.length();

    Q4_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q4_0;
    }

    private float scale(long block) {
        return Float16.toFloat(data.get(HALF, block * BLOCK_BYTES));
    }

    private int nibble(long block, int j) {
        int packed = data.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES + QS + j % PACKED) & 0xff;
        return j < PACKED ? packed & 0xf : packed >>> 4;
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK;
        return (nibble(block, (int) (index % BLOCK)) - 8) * scale(block);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        long firstBlock = offset / BLOCK;
        for (int i = 0; i < n; i += BLOCK) {
            long blockAt = (firstBlock + i / BLOCK) * BLOCK_BYTES;
            FloatVector blockSum = FloatVector.zero(F);
            for (int j = 0; j < PACKED; j += NIBBLES.length()) {
                ByteVector packed = ByteVector.fromMemorySegment(NIBBLES, data, blockAt + QS + j, ByteOrder.LITTLE_ENDIAN);
                ByteVector low = packed.and((byte) 0xf).sub((byte) 8);
                ByteVector high = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf).sub((byte) 8);
                for (int part = 0; part < PARTS; part++) {
                    int at = xOffset + i + j + part * F.length();
                    FloatVector w0 = (FloatVector) low.convertShape(VectorOperators.B2F, F, part);
                    FloatVector w1 = (FloatVector) high.convertShape(VectorOperators.B2F, F, part);
                    blockSum = w0.fma(FloatVector.fromArray(F, x, at), blockSum);
                    blockSum = w1.fma(FloatVector.fromArray(F, x, at + PACKED), blockSum);
                }
            }
            acc = blockSum.fma(broadcast(Float16.toFloat(data.get(HALF, blockAt))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Per block: the 16 quant bytes widen to shorts whose nibbles (0..15, not yet minus 8) multiply the input's
     * quants as shorts; adding the input's {@link MatmulInput#q4Bias} (-8 times the quants each lane covers)
     * makes that the dot product with nibble - 8 (|lane| <= 2 * 8 * 127). Adjacent lanes are then added into
     * ints, converted to floats once and scaled by both blocks' scales.
     */
    @Override
    public float dotQ8_0(long firstBlock, MatmulInput in, int blocks) {
        FloatVector acc = FloatVector.zero(MatmulInput.FLOATS);
        for (int b = 0; b < blocks; b++) {
            long blockAt = (firstBlock + b) * BLOCK_BYTES;
            ShortVector q0 = inputQuants(in, b, 0);
            ShortVector q1 = inputQuants(in, b, 1);
            ShortVector q2 = MatmulInput.BLOCK_ORDER ? null : inputQuants(in, b, 2);
            ShortVector q3 = MatmulInput.BLOCK_ORDER ? null : inputQuants(in, b, 3);
            ShortVector bias = ShortVector.fromArray(MatmulInput.SHORTS, in.q4Bias, b * MatmulInput.SHORTS.length());
            acc = blockTimes(blockAt, q0, q1, q2, q3, bias).fma(scale(blockAt, in.scales[b]), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /** Two rows in one pass: two streams through memory, and the input's vectors loaded once for both. */
    @Override
    public void dotQ8_0(long firstBlockA, long firstBlockB, MatmulInput in, int blocks, float[] out, int outA, int outB) {
        FloatVector accA = FloatVector.zero(MatmulInput.FLOATS);
        FloatVector accB = accA;
        for (int b = 0; b < blocks; b++) {
            long blockA = (firstBlockA + b) * BLOCK_BYTES;
            long blockB = (firstBlockB + b) * BLOCK_BYTES;
            ShortVector q0 = inputQuants(in, b, 0);
            ShortVector q1 = inputQuants(in, b, 1);
            ShortVector bias = ShortVector.fromArray(MatmulInput.SHORTS, in.q4Bias, b * MatmulInput.SHORTS.length());
            accA = blockTimes(blockA, q0, q1, null, null, bias).fma(scale(blockA, in.scales[b]), accA);
            accB = blockTimes(blockB, q0, q1, null, null, bias).fma(scale(blockB, in.scales[b]), accB);
        }
        out[outA] = accA.reduceLanes(VectorOperators.ADD);
        out[outB] = accB.reduceLanes(VectorOperators.ADD);
    }

    /** Vector {@code part} of the input's block b quants (at 256 bits parts 0 and 1 hold all 32). */
    private static ShortVector inputQuants(MatmulInput in, int b, int part) {
        return ShortVector.fromArray(MatmulInput.SHORTS, in.quants, b * BLOCK + part * MatmulInput.SHORTS.length());
    }

    private FloatVector scale(long blockAt, float inputScale) {
        return FloatVector.broadcast(MatmulInput.FLOATS, Float16.toFloat(data.get(HALF, blockAt)) * inputScale);
    }

    /** The block at {@code blockAt} · the input block's quants q0..q3 plus its bias, as partial sums in float lanes. */
    private FloatVector blockTimes(long blockAt, ShortVector q0, ShortVector q1, ShortVector q2, ShortVector q3, ShortVector bias) {
        ShortVector products;
        if (MatmulInput.BLOCK_ORDER) {
            // 16 shorts: the low nibbles are weights 0..15, the high ones 16..31
            ShortVector packed = (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, blockAt + QS,
                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2S, MatmulInput.SHORTS, 0);
            products = packed.and((short) 0xf).mul(q0).add(packed.lanewise(VectorOperators.LSHR, 4).mul(q1));
        } else {
            // 8 shorts of two quant bytes: their four nibbles are weights 2k, 2k+1, 2k+16 and 2k+17
            ShortVector packed = ShortVector.fromMemorySegment(MatmulInput.SHORTS, data, blockAt + QS, ByteOrder.LITTLE_ENDIAN);
            products = packed.and((short) 0xf).mul(q0)
                    .add(packed.lanewise(VectorOperators.LSHR, 8).and((short) 0xf).mul(q1))
                    .add(packed.lanewise(VectorOperators.LSHR, 4).and((short) 0xf).mul(q2))
                    .add(packed.lanewise(VectorOperators.LSHR, 12).mul(q3));
        }
        return MatmulInput.toFloats(MatmulInput.smallPairSums(products.add(bias)));
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        long firstBlock = offset / BLOCK;
        for (int i = 0; i < n; i += BLOCK) {
            long blockAt = (firstBlock + i / BLOCK) * BLOCK_BYTES;
            FloatVector d = broadcast(Float16.toFloat(data.get(HALF, blockAt)));
            for (int j = 0; j < PACKED; j += NIBBLES.length()) {
                ByteVector packed = ByteVector.fromMemorySegment(NIBBLES, data, blockAt + QS + j, ByteOrder.LITTLE_ENDIAN);
                ByteVector low = packed.and((byte) 0xf).sub((byte) 8);
                ByteVector high = packed.lanewise(VectorOperators.LSHR, 4).and((byte) 0xf).sub((byte) 8);
                for (int part = 0; part < PARTS; part++) {
                    int at = outOffset + i + j + part * F.length();
                    ((FloatVector) low.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, at);
                    ((FloatVector) high.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, at + PACKED);
                }
            }
        }
    }

    /** Quantizes x[xOffset, xOffset+n) (n a multiple of 32) exactly like ggml's quantize_row_q4_0_ref. */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer out) {
        for (int i = 0; i < n; i += BLOCK) {
            float amax = 0;
            float max = 0; // the value of largest magnitude, with its sign
            for (int j = 0; j < BLOCK; j++) {
                float v = x[xOffset + i + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8;
            float id = d != 0 ? 1.0f / d : 0.0f;
            out.putShort(Float16.fromFloat(d));
            for (int j = 0; j < PACKED; j++) {
                // (int8_t)(v + 8.5f) truncates towards zero; the values lie in [0.5, 16.5]
                int q0 = Math.min(15, (int) (x[xOffset + i + j] * id + 8.5f));
                int q1 = Math.min(15, (int) (x[xOffset + i + j + PACKED] * id + 8.5f));
                out.put((byte) (q0 | q1 << 4));
            }
        }
    }
}
