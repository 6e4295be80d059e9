package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;

/** Plain little-endian floats. */
public final class F32Tensor extends FloatTensor {

    F32Tensor(MemorySegment data, long size) {
        super(data, size);
    }

    @Override
    public GgmlType type() {
        return GgmlType.F32;
    }

    @Override
    public float getFloat(long index) {
        return data.get(FLOAT, index * Float.BYTES);
    }

    @Override
    public float dot(long offset, float[] x, int xOffset, int n) {
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (int bound = F.loopBound(n); i < bound; i += F.length()) {
            FloatVector w = FloatVector.fromMemorySegment(F, data, (offset + i) * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
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
        MemorySegment.copy(data, FLOAT, offset * Float.BYTES, out, outOffset, n);
    }

    /** Appends {@code n} floats from x[xOffset..] in this type's layout. */
    public static void write(float[] x, int xOffset, int n, ByteBuffer out) {
        for (int i = 0; i < n; i++) {
            out.putFloat(x[xOffset + i]);
        }
    }
}
