package dev.tinyedge.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ggml's block_q8_0: blocks of 32 weights stored as {@code {fp16 d; int8 qs[32]}} (34 bytes); weight j of a
 * block is {@code qs[j] * d}.
 */
public final class Q8_0Tensor extends FloatTensor implements Q8_0Products {
    static final int BLOCK = GgmlType.Q8_0.blockSize;
    static final int BLOCK_BYTES = GgmlType.Q8_0.typeSize;
    /** The quants follow the fp16 scale d. */
    private static final int QS = Short.BYTES;
    /** Half as many bytes as float-vector bits, so one load widens to two float vectors (parts 0 and 1). */
    private static final VectorSpecies<Byte> QUANTS = VectorSpecies.of(byte.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final int PARTS = QUANTS.length() / F.length();

    Q8_0Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.Q8_0;
    }

    private float scale(long block) {
        return Float16.toFloat(data.get(HALF, block * BLOCK_BYTES));
    }

    @Override
    public float getFloat(long index) {
        long block = index / BLOCK;
        byte q = data.get(ValueLayout.JAVA_BYTE, block * BLOCK_BYTES + QS + index % BLOCK);
        return q * scale(block);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        long firstBlock = offset / BLOCK;
        for (int i = 0; i < n; i += BLOCK) {
            long blockAt = (firstBlock + i / BLOCK) * BLOCK_BYTES;
            FloatVector blockSum = FloatVector.zero(F);
            for (int j = 0; j < BLOCK; j += QUANTS.length()) {
                ByteVector q = ByteVector.fromMemorySegment(QUANTS, data, blockAt + QS + j, ByteOrder.LITTLE_ENDIAN);
                for (int part = 0; part < PARTS; part++) {
                    FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, F, part);
                    blockSum = w.fma(FloatVector.fromArray(F, x, xOffset + i + j + part * F.length()), blockSum);
                }
            }
            acc = blockSum.fma(broadcast(Float16.toFloat(data.get(HALF, blockAt))), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD);
    }

    /**
     * Per block: weights and input quants multiply as shorts (|product| <= 127 * 127, so sums of two fit),
     * adjacent products are added into ints, converted to floats once and scaled by both blocks' scales.
     */
    @Override
    public float dotQ8_0(long firstBlock, MatmulInput in, int blocks) {
        FloatVector acc = FloatVector.zero(MatmulInput.FLOATS);
        for (int b = 0; b < blocks; b++) {
            long blockAt = (firstBlock + b) * BLOCK_BYTES;
            acc = blockTimes(blockAt, in, b).fma(scale(blockAt, in.scales[b]), acc);
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
            ShortVector first = ShortVector.fromArray(MatmulInput.SHORTS, in.quants, b * BLOCK);
            ShortVector second = ShortVector.fromArray(MatmulInput.SHORTS, in.quants, b * BLOCK + 16);
            accA = blockTimes(blockA, first, second).fma(scale(blockA, in.scales[b]), accA);
            accB = blockTimes(blockB, first, second).fma(scale(blockB, in.scales[b]), accB);
        }
        out[outA] = accA.reduceLanes(VectorOperators.ADD);
        out[outB] = accB.reduceLanes(VectorOperators.ADD);
    }

    private FloatVector scale(long blockAt, float inputScale) {
        return FloatVector.broadcast(MatmulInput.FLOATS, Float16.toFloat(data.get(HALF, blockAt)) * inputScale);
    }

    /** The block at {@code blockAt} · the input's block b, as partial sums in float lanes. */
    private FloatVector blockTimes(long blockAt, MatmulInput in, int b) {
        short[] quants = in.quants;
        int q = b * BLOCK;
        if (MatmulInput.BLOCK_ORDER) {
            return blockTimes(blockAt, ShortVector.fromArray(MatmulInput.SHORTS, quants, q),
                    ShortVector.fromArray(MatmulInput.SHORTS, quants, q + 16));
        }
        // 8 shorts of two weights each: the low bytes are weights 2k, the high bytes 2k+1 (then 2k+16, 2k+17)
        ShortVector first = ShortVector.fromMemorySegment(MatmulInput.SHORTS, data, blockAt + QS, ByteOrder.LITTLE_ENDIAN);
        ShortVector second = ShortVector.fromMemorySegment(MatmulInput.SHORTS, data, blockAt + QS + 16, ByteOrder.LITTLE_ENDIAN);
        IntVector sums = MatmulInput.pairSums(lowBytes(first).mul(ShortVector.fromArray(MatmulInput.SHORTS, quants, q))
                        .add(first.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(MatmulInput.SHORTS, quants, q + 8))))
                .add(MatmulInput.pairSums(lowBytes(second).mul(ShortVector.fromArray(MatmulInput.SHORTS, quants, q + 16))
                        .add(second.lanewise(VectorOperators.ASHR, 8).mul(ShortVector.fromArray(MatmulInput.SHORTS, quants, q + 24)))));
        return MatmulInput.toFloats(sums);
    }

    /** At 256 bits and more: the block at {@code blockAt} · its input quants, 16 and 16 (block order). */
    private FloatVector blockTimes(long blockAt, ShortVector first, ShortVector second) {
        return MatmulInput.toFloats(MatmulInput.pairSums(weights(blockAt + QS).mul(first).add(weights(blockAt + QS + 16).mul(second))));
    }

    /** 16 weights from {@code at}, widened to shorts. */
    private ShortVector weights(long at) {
        return (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_128, data, at, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2S, MatmulInput.SHORTS, 0);
    }

    /** The low byte of each short, sign-extended. */
    private static ShortVector lowBytes(ShortVector pairs) {
        return pairs.lanewise(VectorOperators.LSHL, 8).lanewise(VectorOperators.ASHR, 8);
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        long firstBlock = offset / BLOCK;
        for (int i = 0; i < n; i += BLOCK) {
            long blockAt = (firstBlock + i / BLOCK) * BLOCK_BYTES;
            FloatVector d = broadcast(Float16.toFloat(data.get(HALF, blockAt)));
            for (int j = 0; j < BLOCK; j += QUANTS.length()) {
                ByteVector q = ByteVector.fromMemorySegment(QUANTS, data, blockAt + QS + j, ByteOrder.LITTLE_ENDIAN);
                for (int part = 0; part < PARTS; part++) {
                    ((FloatVector) q.convertShape(VectorOperators.B2F, F, part)).mul(d).intoArray(out, outOffset + i + j + part * F.length());
                }
            }
        }
    }

    /** Quantizes x[xOffset, xOffset+n) (n a multiple of 32) exactly like ggml's quantize_row_q8_0_ref. */
    public static void quantize(float[] x, int xOffset, int n, ByteBuffer out) {
        for (int i = 0; i < n; i += BLOCK) {
            float amax = 0;
            for (int j = 0; j < BLOCK; j++) {
                amax = Math.max(amax, Math.abs(x[xOffset + i + j]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1.0f / d : 0.0f;
            out.putShort(Float16.fromFloat(d));
            for (int j = 0; j < BLOCK; j++) {
                out.put((byte) roundHalfAwayFromZero(x[xOffset + i + j] * id));
            }
        }
    }

    /** C's roundf (Math.round rounds halves towards positive infinity instead). */
    private static int roundHalfAwayFromZero(float v) {
        float magnitude = Math.abs(v);
        float floor = (float) Math.floor(magnitude);
        int rounded = (int) floor + (magnitude - floor >= 0.5f ? 1 : 0);
        return v < 0 ? -rounded : rounded;
    }
}
