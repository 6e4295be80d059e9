package dev.tinyedge.tensor;

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

/** BF16: the top 16 bits of an IEEE float, little-endian. */
public final class BF16Tensor extends FloatTensor {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /** As many 16-bit lanes as F has float lanes, so one load widens to one float vector. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(F.length() * 16));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());

    BF16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.BF16;
    }

    @Override
    public float getFloat(long index) {
        return toFloat(data.get(U16, index * 2));
    }

    /** Σ w[offset + i]·x[xOffset + i] for i < n. */
    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int upper = F.loopBound(n);
        for (int i = 0; i < upper; i += F.length()) {
            acc = load(offset + i).fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int i = upper; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        int upper = F.loopBound(n);
        for (int i = 0; i < upper; i += F.length()) {
            load(offset + i).intoArray(out, outOffset + i);
        }
        for (int i = upper; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }

    /** Elements [index, index + F.length()) widened to floats. */
    private FloatVector load(long index) {
        ShortVector bits = ShortVector.fromMemorySegment(S, data, index * 2, ByteOrder.LITTLE_ENDIAN);
        return ((IntVector) bits.convertShape(VectorOperators.S2I, I, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    /** ggml's fp32 → bf16: round to nearest even; NaN stays NaN (made quiet). */
    public static short fromFloat(float value) {
        int bits = Float.floatToRawIntBits(value);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 64);
        }
        return (short) ((bits + (0x7fff + ((bits >>> 16) & 1))) >>> 16);
    }

    /** Appends {@code n} numbers from x[xOffset..], rounded to bfloat16. */
    public static void write(float[] x, int xOffset, int n, ByteBuffer out) {
        for (int i = 0; i < n; i++) {
            out.putShort(fromFloat(x[xOffset + i]));
        }
    }
}
