package dev.tinyedge.parity;

import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * tinyedge's block codecs against ggml's own, called in the libggml-base.so of the pinned node-llama-cpp
 * install: the reference quantizers write the same bytes as quantize_row_*_ref (what llama.cpp's quantize
 * uses without an importance matrix), and every weight reads back as dequantize_row_* reads it.
 */
class GgmlCodecParityTest {
    private static final String LIBRARY = "tests/node/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64/libggml-base.so";

    private static Arena arena;
    private static SymbolLookup ggml;

    @BeforeAll
    static void loadGgml() {
        Path library = LlamaCpp.repositoryRoot().resolve(LIBRARY);
        if (!Files.isRegularFile(library)) {
            throw new IllegalStateException("no " + library + ": run tests/node/install.sh");
        }
        arena = Arena.ofShared();
        ggml = SymbolLookup.libraryLookup(library, arena);
    }

    @AfterAll
    static void unload() {
        arena.close();
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void sameBytesAsGgml(GgmlType type) throws Throwable {
        float[] x = testData(256 * 100, new Random(type.id));
        assertArrayEquals(ggmlQuantize(type, x), tinyedgeQuantize(type, x), type.toString());
    }

    /**
     * Gaussian rows at several scales, with blocks that test the edge paths: all zero, constant, one
     * outlier, all positive, values so small that scales round to zero in fp16, zeros of both signs,
     * heavy tails, and sub-blocks whose ranges differ by orders of magnitude.
     */
    private static float[] testData(int n, Random random) {
        float[] x = new float[n];
        for (int b = 0; b < n / 256; b++) {
            float scale = (float) Math.pow(10, -3 + random.nextInt(4));
            for (int i = b * 256; i < b * 256 + 256; i++) {
                x[i] = switch (b % 10) {
                    case 0 -> 0f;
                    case 1 -> 0.25f;
                    case 2 -> i % 256 == 17 ? 50 * scale : (float) random.nextGaussian() * scale;
                    case 3 -> Math.abs((float) random.nextGaussian()) * scale;
                    case 4 -> (float) random.nextGaussian() * 1e-9f;
                    case 5 -> i % 256 == 100 ? scale : i % 2 == 0 ? 0f : -0f;
                    case 6 -> (float) (random.nextGaussian() / random.nextGaussian()) * scale;
                    case 7 -> (float) (random.nextGaussian() * Math.pow(10, (i / 32) % 7 - 4));
                    default -> (float) random.nextGaussian() * scale;
                };
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K", "BF16"})
    void sameWeightsAsGgml(GgmlType type) throws Throwable {
        byte[] bytes = tinyedgeQuantize(type, testData(256 * 16, new Random(100 + type.id)));
        long n = bytes.length / type.typeSize * (long) type.blockSize;
        float[] expected = ggmlDequantize(type, bytes, n);
        FloatTensor tensor = FloatTensor.of(type, MemorySegment.ofArray(bytes), n);
        float[] actual = new float[expected.length];
        for (int i = 0; i < actual.length; i++) {
            actual[i] = tensor.getFloat(i);
        }
        assertArrayEquals(expected, actual, type.toString());
    }

    private static byte[] tinyedgeQuantize(GgmlType type, float[] x) {
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(type.byteSize(x.length))).order(ByteOrder.LITTLE_ENDIAN);
        FloatTensor.encode(type, x, 0, x.length, out);
        return out.array();
    }

    private static byte[] ggmlQuantize(GgmlType type, float[] x) throws Throwable {
        MethodHandle quantize = rowFunction(type == GgmlType.BF16 ? "ggml_fp32_to_bf16_row_ref"
                : "quantize_row_" + ggmlName(type) + "_ref");
        try (Arena call = Arena.ofConfined()) {
            MemorySegment in = call.allocateFrom(ValueLayout.JAVA_FLOAT, x);
            MemorySegment out = call.allocate(type.byteSize(x.length));
            quantize.invokeExact(in, out, (long) x.length);
            return out.toArray(ValueLayout.JAVA_BYTE);
        }
    }

    private static float[] ggmlDequantize(GgmlType type, byte[] bytes, long n) throws Throwable {
        MethodHandle dequantize = rowFunction(type == GgmlType.BF16 ? "ggml_bf16_to_fp32_row" : "dequantize_row_" + ggmlName(type));
        try (Arena call = Arena.ofConfined()) {
            MemorySegment in = call.allocateFrom(ValueLayout.JAVA_BYTE, bytes);
            MemorySegment out = call.allocate(ValueLayout.JAVA_FLOAT, n);
            dequantize.invokeExact(in, out, n);
            return out.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    /** ggml's row functions all take (const void * in, void * out, int64_t count). */
    private static MethodHandle rowFunction(String name) {
        return Linker.nativeLinker().downcallHandle(ggml.find(name).orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
    }

    /** ggml's spelling in function names: q4_1, q4_K. */
    private static String ggmlName(GgmlType type) {
        return type.name().toLowerCase().replace("_k", "_K");
    }
}
