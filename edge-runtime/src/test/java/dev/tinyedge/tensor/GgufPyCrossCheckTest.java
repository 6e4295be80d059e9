package dev.tinyedge.tensor;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A second, independent reference: the numpy codecs of llama.cpp's gguf-py package (checked there
 * against libggml). Its quantizers for the simple formats must give our bytes exactly; its K-quant
 * dequantizers must read our K-quant bytes as we do. Skipped where python3 has no {@code gguf}.
 */
class GgufPyCrossCheckTest {
    private static final String SCRIPT = """
            import sys, numpy as np
            from gguf import quants, GGMLQuantizationType as T
            mode, kind, src, dst = sys.argv[1:5]
            qtype = T[kind]
            if mode == 'quantize':
                x = np.fromfile(src, dtype='<f4').reshape(-1, 256)
                quants.quantize(x, qtype).tofile(dst)
            else:
                raw = np.fromfile(src, dtype=np.uint8).reshape(-1, quants.GGML_QUANT_SIZES[qtype][1])
                quants.dequantize(raw, qtype).astype('<f4').tofile(dst)
            """;

    @TempDir
    static Path dir;

    @BeforeAll
    static void needsGgufPy() throws Exception {
        assumeTrue(run("python3", "-c", "import gguf.quants") == 0, "python3 with the gguf package");
        Files.writeString(dir.resolve("codec.py"), SCRIPT);
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_1", "Q5_0", "Q5_1", "BF16"})
    void quantizersWriteTheBytesGgufPyWrites(GgmlType type) throws Exception {
        float[] x = ReferenceQuantizersTest.weightLike(256 * 8, new Random(3));
        Path in = dir.resolve(type + ".f32");
        Path out = dir.resolve(type + ".q");
        Files.write(in, floats(x));
        assertEquals(0, run("python3", dir.resolve("codec.py").toString(), "quantize", type.name(), in.toString(), out.toString()));
        assertArrayEquals(Files.readAllBytes(out), ReferenceQuantizersTest.quantize(type, x));
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_K", "Q5_K", "Q6_K"})
    void kQuantBytesDequantizeAsGgufPyReadsThem(GgmlType type) throws Exception {
        float[] x = ReferenceQuantizersTest.weightLike(256 * 8, new Random(4));
        byte[] bytes = ReferenceQuantizersTest.quantize(type, x);
        Path in = dir.resolve(type + ".q");
        Path out = dir.resolve(type + ".f32");
        Files.write(in, bytes);
        assertEquals(0, run("python3", dir.resolve("codec.py").toString(), "dequantize", type.name(), in.toString(), out.toString()));
        ByteBuffer expected = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
        BlockTypesTest.Tensor tensor = BlockTypesTest.open(type, x.length, MemorySegment.ofArray(bytes));
        for (int i = 0; i < x.length; i++) {
            float e = expected.getFloat(4 * i);
            assertEquals(e, tensor.getFloat(i), Math.ulp(e) * 2, type + " element " + i);
        }
    }

    private static byte[] floats(float[] x) {
        ByteBuffer b = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : x) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static int run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}
