package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Llama models with random weights, for tests and benchmarks. Matrices are uniform with the standard
 * deviation 1/sqrt(in) (0.022 at TinyLlama's width), so every projection keeps activations near unit
 * scale; norm weights are 1. Weights are deterministic per seed and generated row by row while the file
 * is written, so even TinyLlama's 1.1 billion never sit on the heap as floats.
 */
public final class SyntheticModel {
    /** A named shape; without an output head the token embedding is tied to it. */
    public record Preset(String name, ModelConfig config, boolean outputHead) {
    }

    public static final Preset TINY = new Preset("tiny",
            new ModelConfig(32000, 64, 192, 2, 4, 2, 256, 1e-5f, 10000f), false);
    public static final Preset TINYLLAMA_1_1B = new Preset("tinyllama-1.1b",
            new ModelConfig(32000, 2048, 5632, 22, 32, 4, 2048, 1e-5f, 10000f), true);

    private static final int ROWS_PER_CHUNK = 64;

    private SyntheticModel() {
    }

    public static Preset preset(String name) {
        return switch (name) {
            case "tiny" -> TINY;
            case "tinyllama-1.1b" -> TINYLLAMA_1_1B;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, tinyllama-1.1b)");
        };
    }

    /** {@link #writer(Preset, QuantMix, boolean, long)} with every matrix in {@code type}. */
    public static GgufWriter writer(Preset preset, GgmlType type, long seed) {
        return writer(preset, QuantMix.of(type), true, seed);
    }

    /**
     * A writer holding the model's metadata and tensors (matrices in the types {@code mix} gives them,
     * norms in F32, as llama.cpp's converters and quantizer do); the caller adds the tokenizer metadata and
     * writes it.
     */
    public static GgufWriter writer(Preset preset, QuantMix mix, boolean pure, long seed) {
        ModelConfig c = preset.config();
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string(ModelConfig.ARCHITECTURE))
                .put("general.name", GgufValue.string("synthetic-" + preset.name() + "-" + mix.cliName))
                .put("general.file_type", GgufValue.u32(mix.fileType))
                .put("llama.vocab_size", GgufValue.u32(c.vocabSize()))
                .put("llama.context_length", GgufValue.u32(c.contextLength()))
                .put("llama.embedding_length", GgufValue.u32(c.dim()))
                .put("llama.block_count", GgufValue.u32(c.layers()))
                .put("llama.feed_forward_length", GgufValue.u32(c.ffnDim()))
                .put("llama.rope.dimension_count", GgufValue.u32(c.headDim()))
                .put("llama.attention.head_count", GgufValue.u32(c.heads()))
                .put("llama.attention.head_count_kv", GgufValue.u32(c.kvHeads()))
                .put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(c.rmsEps()))
                .put("llama.rope.freq_base", GgufValue.f32(c.ropeBase()));
        SplittableRandom tensorSeeds = new SplittableRandom(seed);
        tensorShapes(preset).forEach((name, shape) -> {
            long tensorSeed = tensorSeeds.nextLong();
            if (shape.length == 1) {
                norm(w, name, (int) shape[0]);
            } else {
                GgmlType type = mix.typeFor(name, shape, GgmlType.F32, c.layers(), !preset.outputHead(), pure);
                matrix(w, name, type, (int) shape[0], (int) shape[1], tensorSeed);
            }
        });
        return w;
    }

    /** The tensors of a Llama model of this shape, in file order, with their GGUF shapes. */
    public static Map<String, long[]> tensorShapes(Preset preset) {
        ModelConfig c = preset.config();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(ModelWeights.TOKEN_EMBEDDING, new long[] {c.dim(), c.vocabSize()});
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            shapes.put(p + "attn_norm.weight", new long[] {c.dim()});
            shapes.put(p + "attn_q.weight", new long[] {c.dim(), c.dim()});
            shapes.put(p + "attn_k.weight", new long[] {c.dim(), c.kvDim()});
            shapes.put(p + "attn_v.weight", new long[] {c.dim(), c.kvDim()});
            shapes.put(p + "attn_output.weight", new long[] {c.dim(), c.dim()});
            shapes.put(p + "ffn_norm.weight", new long[] {c.dim()});
            shapes.put(p + "ffn_gate.weight", new long[] {c.dim(), c.ffnDim()});
            shapes.put(p + "ffn_up.weight", new long[] {c.dim(), c.ffnDim()});
            shapes.put(p + "ffn_down.weight", new long[] {c.ffnDim(), c.dim()});
        }
        shapes.put(ModelWeights.OUTPUT_NORM, new long[] {c.dim()});
        if (preset.outputHead()) {
            shapes.put(ModelWeights.OUTPUT, new long[] {c.dim(), c.vocabSize()});
        }
        return shapes;
    }

    private static void norm(GgufWriter w, String name, int dim) {
        w.addTensor(name, GgmlType.F32, new long[] {dim}, out -> {
            for (int i = 0; i < dim; i++) {
                out.putFloat(1f);
            }
        });
    }

    /**
     * Rows are drawn in order from one generator, a chunk at a time, and quantized in parallel (the K-quant
     * reference quantizers cost far more than drawing the numbers), so the bytes do not depend on threads.
     */
    private static void matrix(GgufWriter w, String name, GgmlType type, int cols, int rows, long seed) {
        float bound = (float) Math.sqrt(3.0 / cols); // uniform on [-b, b] has standard deviation b/sqrt(3)
        w.addTensor(name, type, new long[] {cols, rows}, out -> {
            SplittableRandom random = new SplittableRandom(seed);
            int rowBytes = Math.toIntExact(type.byteSize(cols));
            float[] chunk = new float[ROWS_PER_CHUNK * cols];
            for (int first = 0; first < rows; first += ROWS_PER_CHUNK) {
                int count = Math.min(ROWS_PER_CHUNK, rows - first);
                for (int i = 0; i < count * cols; i++) {
                    chunk[i] = (float) random.nextDouble(-bound, bound);
                }
                int start = out.position();
                IntStream.range(0, count).parallel().forEach(r -> FloatTensor.encode(type, chunk, r * cols, cols,
                        out.slice(start + r * rowBytes, rowBytes).order(ByteOrder.LITTLE_ENDIAN)));
                out.position(start + count * rowBytes);
            }
        });
    }
}
