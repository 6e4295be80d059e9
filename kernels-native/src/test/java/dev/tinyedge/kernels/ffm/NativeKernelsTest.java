package dev.tinyedge.kernels.ffm;

import dev.tinyedge.kernels.Products;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every native kernel, on every tier this CPU runs (each forced in turn), against the scalar reference
 * ({@link KernelCase}): bit for bit where the arithmetic is exact, else within the reference's rounding.
 */
class NativeKernelsTest {
    private static final List<KernelCase> CASES = KernelCase.all();

    static List<String> tiers() {
        return NativeKernels.supportedTiers();
    }

    @Test
    void thisX86MachineRunsAtLeastTheAvx2Tier() {
        assertTrue(tiers().contains("avx2"), "the build's linux-x86_64 library loads and this CPU has AVX2: " + tiers());
    }

    @ParameterizedTest
    @MethodSource("tiers")
    void productsMatchTheScalarReference(String tier) throws IOException {
        NativeKernels kernels = NativeKernels.load(tier);
        Products products = new Products(kernels, KernelCase.MAX_BATCH, 512);
        for (KernelCase c : CASES) {
            FloatTensor w = FloatTensor.of(c.type(), MemorySegment.ofArray(c.weights()), (long) c.rows() * c.cols());
            float[] out = new float[2 + c.batch() * c.rows()];
            products.multiply(w, c.x(), c.batch(), c.cols(), out, 2, c.rows(), c.rows() / 2);
            assertEquals(0f, out[0]);
            assertEquals(0f, out[1]);
            for (int i = 0; i < c.expected().length; i++) {
                if (c.exact()) {
                    assertEquals(c.expected()[i], out[2 + i], 0f, tier + " " + c + " [" + i + "]");
                } else {
                    assertEquals(c.expected()[i], out[2 + i], c.tolerance()[i], tier + " " + c + " [" + i + "]");
                }
            }
        }
    }

    /** The input's Q8_0 rounding sends halves to the even quant, as llama.cpp's vectorized quantizer does. */
    @ParameterizedTest
    @MethodSource("tiers")
    void q8_0RoundingSendsHalvesToEven(String tier) throws IOException {
        float[] x = new float[32];
        x[0] = 127; // the scale is then 1, and the quants are the values rounded
        float[] halves = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 125.5f, -126.5f, 0.49999997f, 2.5000002f};
        System.arraycopy(halves, 0, x, 1, halves.length);
        // 32 rows of one Q8_0 block each, row j = 1.0 at element j: the products are the rounded input
        ByteBuffer identity = ByteBuffer.allocate(32 * 34).order(ByteOrder.LITTLE_ENDIAN);
        for (int j = 0; j < 32; j++) {
            identity.putShort(j * 34, Float.floatToFloat16(1f));
            identity.put(j * 34 + 2 + j, (byte) 1);
        }
        FloatTensor w = FloatTensor.of(GgmlType.Q8_0, MemorySegment.ofArray(identity.array()), 32 * 32);
        float[] out = new float[32];
        new Products(NativeKernels.load(tier), 1, 32).multiply(w, x, 1, 32, out, 0, 32);
        for (int j = 0; j < 32; j++) {
            assertEquals((float) Math.rint(x[j]), out[j], 0f, "element " + j + " = " + x[j]);
        }
    }

    @Test
    void typesWithoutNativeKernelsGoToTheVectorApi() throws IOException {
        NativeKernels kernels = NativeKernels.load(tiers().getFirst());
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q4_1, GgmlType.Q5_0, GgmlType.Q5_1)) {
            assertFalse(kernels.kernel(type).getClass().getName().contains("Native"), type + " runs on the Vector API kernels");
        }
    }
}
