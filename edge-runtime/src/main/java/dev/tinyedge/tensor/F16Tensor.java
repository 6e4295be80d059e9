package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian IEEE half-precision numbers. */
public final class F16Tensor extends FloatTensor {
    /** As many halves as the float vector has lanes, so one load widens to exactly one float vector. */
    private static final VectorSpecies<Short> HALVES = VectorSpecies.of(short.class, VectorShape.forBitSize(F.vectorBitSize() / 2));
    private static final VectorSpecies<Integer> INTS = VectorSpecies.of(int.class, F.vectorShape());

    F16Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F16;
    }

    @Override
    public float getFloat(long index) {
        return Float16.toFloat(data.get(HALF, index * 2));
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            ShortVector halves = ShortVector.fromMemorySegment(HALVES, data, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN);
            FloatVector w = Float16.toFloat((IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0));
            acc = w.fma(FloatVector.fromArray(F, x, xOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += getFloat(offset + i) * x[xOffset + i];
        }
        return sum;
    }

    @Override
    public void dequantize(long offset, float[] out, int outOffset, int n) {
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            ShortVector halves = ShortVector.fromMemorySegment(HALVES, data, (offset + i) * 2, ByteOrder.LITTLE_ENDIAN);
            Float16.toFloat((IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0)).intoArray(out, outOffset + i);
        }
        for (; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }

    /** Appends {@code n} numbers from x[xOffset..], rounded to half precision. */
    public static void write(float[] x, int xOffset, int n, ByteBuffer out) {
        for (int i = 0; i < n; i++) {
            out.putShort(Float16.fromFloat(x[xOffset + i]));
        }
    }
}
