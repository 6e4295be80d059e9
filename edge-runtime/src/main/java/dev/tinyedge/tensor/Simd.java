package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector width every kernel uses, chosen once at start-up, and the float-array kernels of the forward
 * pass. The width is the CPU's preferred one (128-bit on NEON boards, 256/512 on x86), clamped to 128..512
 * bits because the block kernels are written for that range; {@code -Dtinyedge.vector.bits=128} forces a
 * narrower one (tests use it to run the NEON-width code paths on an x86 machine).
 */
public final class Simd {
    public static final VectorSpecies<Float> FLOATS = VectorSpecies.of(float.class, VectorShape.forBitSize(
            Math.clamp(Integer.getInteger("tinyedge.vector.bits", FloatVector.SPECIES_PREFERRED.vectorBitSize()), 128, 512)));

    private Simd() {
    }

    public static int vectorBits() {
        return FLOATS.vectorBitSize();
    }

    /** a[aOffset..aOffset+n) · b[bOffset..bOffset+n). */
    public static float dot(float[] a, int aOffset, float[] b, int bOffset, int n) {
        FloatVector acc = FloatVector.zero(FLOATS);
        int i = 0;
        for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
            acc = FloatVector.fromArray(FLOATS, a, aOffset + i).fma(FloatVector.fromArray(FLOATS, b, bOffset + i), acc);
        }
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) {
            sum += a[aOffset + i] * b[bOffset + i];
        }
        return sum;
    }

    /** y[yOffset..yOffset+n) += a · x[xOffset..xOffset+n). */
    public static void axpy(float a, float[] x, int xOffset, float[] y, int yOffset, int n) {
        int i = 0;
        for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
            FloatVector.fromArray(FLOATS, x, xOffset + i)
                    .fma(FloatVector.broadcast(FLOATS, a), FloatVector.fromArray(FLOATS, y, yOffset + i))
                    .intoArray(y, yOffset + i);
        }
        for (; i < n; i++) {
            y[yOffset + i] += a * x[xOffset + i];
        }
    }
}
