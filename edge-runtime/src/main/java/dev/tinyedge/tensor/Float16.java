package dev.tinyedge.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

/** IEEE half precision (ggml_fp16_t), the scale type of the quantized blocks and the F16 weight type. */
public final class Float16 {
    private Float16() {
    }

    public static float toFloat(short half) {
        return Float.float16ToFloat(half);
    }

    /** Rounds to nearest even, like GGML_FP32_TO_FP16. */
    public static short fromFloat(float value) {
        return Float.floatToFloat16(value);
    }

    /**
     * Widens half-precision bit patterns (sign-extended into int lanes) to floats. The Vector API has no
     * half-precision conversion, so this is the classic bit trick: shift exponent and mantissa into float
     * position and rescale by 2^112 (which also turns half subnormals into the right float), then restore
     * infinities/NaNs and the sign.
     */
    static FloatVector toFloat(IntVector halves) {
        IntVector magnitude = halves.and(0x7fff).lanewise(VectorOperators.LSHL, 13);
        IntVector finite = magnitude.reinterpretAsFloats().mul(0x1p112f).reinterpretAsInts();
        VectorMask<Integer> infOrNaN = magnitude.compare(VectorOperators.GE, 0x7c00 << 13);
        IntVector bits = finite.blend(magnitude.or(0x7f800000), infOrNaN);
        IntVector sign = halves.and(0x8000).lanewise(VectorOperators.LSHL, 16);
        return bits.or(sign).reinterpretAsFloats();
    }
}
