package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tinyedge quantize} on a small F32 Llama model whose rows are 256 wide (so K-quants apply) and
 * whose 8 layers make llama.cpp's use_more_bits pick layers 0, 3, 6 and 7.
 */
class QuantizeCommandTest {
    private static final SyntheticModel.Preset SHAPE = new SyntheticModel.Preset("kq",
            new ModelConfig(512, 256, 512, 8, 4, 2, 128, 1e-5f, 10000f), true);
    private static final Set<Integer> MORE_BITS = Set.of(0, 3, 6, 7);

    @TempDir
    static Path dir;
    static Path f32;

    @BeforeAll
    static void writeModel() throws Exception {
        f32 = dir.resolve("f32.gguf");
        SyntheticModel.writer(SHAPE, GgmlType.F32, 42).put("general.name", GgufValue.string("quantize-test")).write(f32);
    }

    private record Result(int exitCode, String err) {}

    private static Result run(String... args) {
        PrintStream err = System.err;
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        try {
            return new Result(Main.run(args), errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(err);
        }
    }

    private static Path quantize(String name, String... options) {
        Path out = dir.resolve(name);
        String[] args = new String[3 + options.length];
        args[0] = "quantize";
        args[1] = f32.toString();
        args[2] = out.toString();
        System.arraycopy(options, 0, args, 3, options.length);
        Result result = run(args);
        assertEquals(0, result.exitCode(), result.err());
        return out;
    }

    @Test
    void q4KMediumFollowsLlamaCppsRecipeAndKeepsTheMetadata() throws Exception {
        Path out = quantize("q4_k_m.gguf", "--type", "q4_k_m");
        try (GgufFile in = GgufFile.open(f32); GgufFile q = GgufFile.open(out)) {
            for (GgufTensorInfo t : q.tensors()) {
                assertEquals(expectedQ4KM(t.name()), t.type(), t.name());
            }
            assertEquals(15, q.getLong("general.file_type", -1));
            assertEquals(2, q.getLong("general.quantization_version", -1));
            in.metadata().forEach((key, value) -> {
                if (!key.equals("general.file_type")) {
                    assertEquals(value.value().toString(), q.get(key).value().toString(), key);
                }
            });
            assertWeightsClose(in, q);
        }
    }

    private static GgmlType expectedQ4KM(String name) {
        if (name.endsWith("_norm.weight")) {
            return GgmlType.F32;
        }
        if (name.equals("output.weight")) {
            return GgmlType.Q6_K;
        }
        if (name.contains("attn_v") || name.contains("ffn_down")) {
            int layer = Integer.parseInt(name.split("\\.")[1]);
            return MORE_BITS.contains(layer) ? GgmlType.Q6_K : GgmlType.Q4_K;
        }
        return GgmlType.Q4_K;
    }

    /** Every quantized tensor reads back within its type's error of the F32 original (rms relative error). */
    private static void assertWeightsClose(GgufFile in, GgufFile q) {
        for (GgufTensorInfo t : q.tensors()) {
            FloatTensor original = FloatTensor.of(GgmlType.F32, in.data(in.tensor(t.name())), t.elementCount());
            FloatTensor quantized = FloatTensor.of(t.type(), q.data(t), t.elementCount());
            double err = 0;
            double sig = 0;
            for (long i = 0; i < t.elementCount(); i++) {
                double x = original.getFloat(i);
                double y = quantized.getFloat(i);
                err += (x - y) * (x - y);
                sig += x * x;
            }
            double bound = switch (t.type()) {
                case F32 -> 0;
                case Q8_0 -> 0.01;
                case Q6_K -> 0.03;
                case Q4_K, Q4_0 -> 0.12;
                default -> throw new AssertionError(t.name() + " " + t.type());
            };
            assertTrue(Math.sqrt(err / sig) <= bound, t.name() + " " + t.type() + " relative error " + Math.sqrt(err / sig));
        }
    }

    @Test
    void f32ToQ8_0RoundsEachWeightToTheNearestStep() throws Exception {
        Path out = quantize("q8_0.gguf", "--type", "q8_0");
        try (GgufFile in = GgufFile.open(f32); GgufFile q = GgufFile.open(out)) {
            assertEquals(7, q.getLong("general.file_type", -1));
            for (GgufTensorInfo t : q.tensors()) {
                assertEquals(t.shape().length == 1 ? GgmlType.F32 : GgmlType.Q8_0, t.type(), t.name());
                FloatTensor original = FloatTensor.of(GgmlType.F32, in.data(in.tensor(t.name())), t.elementCount());
                FloatTensor quantized = FloatTensor.of(t.type(), q.data(t), t.elementCount());
                for (long b = 0; b < t.elementCount(); b += 32) {
                    float amax = 0;
                    for (int i = 0; i < 32 && b + i < t.elementCount(); i++) {
                        amax = Math.max(amax, Math.abs(original.getFloat(b + i)));
                    }
                    // half a step of amax/127, plus the fp16 rounding of the scale (127 steps · 2^-11 relative)
                    double bound = amax / 127 * (0.5 + 127 * 0x1p-11) + 1e-9;
                    for (int i = 0; i < 32 && b + i < t.elementCount(); i++) {
                        assertEquals(original.getFloat(b + i), quantized.getFloat(b + i), bound, t.name() + "[" + (b + i) + "]");
                    }
                }
            }
        }
    }

    /** llama.cpp's converters write BF16 (or F16) files: those are the usual input. */
    @Test
    void bf16InputQuantizesWithoutAWarning() throws Exception {
        Path bf16 = quantize("bf16.gguf", "--type", "bf16");
        Path out = dir.resolve("from-bf16-q4_k_m.gguf");
        Result result = run("quantize", bf16.toString(), out.toString(), "--type", "q4_k_m");
        assertEquals(0, result.exitCode(), result.err());
        assertFalse(result.err().contains("already quantized"), result.err());
        try (GgufFile in = GgufFile.open(f32); GgufFile q = GgufFile.open(out)) {
            for (GgufTensorInfo t : q.tensors()) {
                assertEquals(expectedQ4KM(t.name()), t.type(), t.name());
            }
            assertWeightsClose(in, q);
        }
    }

    @Test
    void pureWritesEveryMatrixInTheType() throws Exception {
        Path out = quantize("q4_0-pure.gguf", "--type", "q4_0", "--pure");
        try (GgufFile q = GgufFile.open(out)) {
            for (GgufTensorInfo t : q.tensors()) {
                assertEquals(t.shape().length == 1 ? GgmlType.F32 : GgmlType.Q4_0, t.type(), t.name());
            }
        }
        Path mixed = quantize("q4_0.gguf", "--type", "q4_0");
        try (GgufFile q = GgufFile.open(mixed)) {
            assertEquals(GgmlType.Q6_K, q.tensor("output.weight").type());
        }
    }

    @Test
    void aTensorOfAnUnreadableTypeIsNamed() throws Exception {
        Path q2k = dir.resolve("q2_k.gguf");
        new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("llama.block_count", GgufValue.u32(1))
                .addTensor("blk.0.attn_q.weight", GgmlType.Q2_K, new long[] {256, 2}, b -> b.put(new byte[2 * GgmlType.Q2_K.typeSize]))
                .write(q2k);
        Path out = dir.resolve("from-q2_k.gguf");
        Result result = run("quantize", q2k.toString(), out.toString(), "--type", "q4_0");
        assertEquals(1, result.exitCode());
        assertEquals(List.of("tinyedge: error: " + q2k + ": tensor 'blk.0.attn_q.weight' has type Q2_K, which tinyedge cannot read"
                + " (it reads " + FloatTensor.supportedTypes() + ")"), result.err().lines().toList());
        assertFalse(Files.exists(out));
    }

    @Test
    void usageErrors() {
        Result unknown = run("quantize", f32.toString(), dir.resolve("x.gguf").toString(), "--type", "q3_k_s");
        assertEquals(2, unknown.exitCode());
        assertTrue(unknown.err().startsWith("tinyedge: error: --type: unknown type 'q3_k_s'"), unknown.err());
        assertEquals(2, run("quantize", f32.toString(), f32.toString(), "--type", "q8_0").exitCode());
    }
}
