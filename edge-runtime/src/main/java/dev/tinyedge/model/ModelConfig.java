package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;

/**
 * A model's hyper-parameters and the features of its block, read from the {@code ARCH.*} metadata as llama.cpp
 * reads them (src/llama-model.cpp: load_hparams, then each architecture's load_arch_hparams), with llama.cpp's
 * defaults: KV heads = heads, key and value length = dim / heads, RoPE base 10000, no RoPE scaling. Metadata that
 * would change the math in a way tinyedge does not implement (another architecture, RoPE scaling other than
 * linear, partial rotary embeddings, experts, ...) is refused with one line naming it.
 *
 * @param headDim   the key and value length of a head (Qwen3 and Gemma 3 have heads · headDim ≠ dim)
 * @param ropeScale RoPE's frequency scale for the layers that are not local (1 / linear scaling factor; 1 = none)
 * @param window    sliding-window attention of the local layers ({@link SlidingWindow#NONE} for full attention)
 */
public record ModelConfig(Architecture architecture, Features features, int vocabSize, int dim, int ffnDim, int layers,
                          int heads, int kvHeads, int headDim, int contextLength, float rmsEps, float ropeBase,
                          float ropeScale, SlidingWindow window) {

    /**
     * Local layers attend to the last {@code size} positions only (key position t is visible from query position p
     * when p - t < size: llama_hparams::is_masked_swa, LLAMA_SWA_TYPE_STANDARD) and turn RoPE with their own base.
     * Which layers are local follows llama_hparams::set_swa_pattern: all but every {@code period}-th, counting from
     * 1 (period 6: layers 5, 11, 17, ... are global); period 0 makes every layer local.
     */
    public record SlidingWindow(int size, int period, float ropeBase) {
        public static final SlidingWindow NONE = new SlidingWindow(0, 0, 0f);

        public boolean isLocal(int layer) {
            return size > 0 && (period == 0 || layer % period < period - 1);
        }
    }

    public ModelConfig {
        if (heads % kvHeads != 0 || headDim % 2 != 0 || headDim <= 0) {
            throw new IllegalArgumentException(heads + " heads of " + headDim + " over " + kvHeads
                    + " KV heads do not make even heads with whole query groups");
        }
    }

    /** Whether this build runs {@code general.architecture}; the model catalog asks here rather than keep a list. */
    public static boolean supports(String architecture) {
        return java.util.Arrays.stream(Architecture.values()).anyMatch(a -> a.ggufName.equals(architecture));
    }

    /** A Llama-2 block with heads of dim / heads, no sliding window and no RoPE scaling. */
    public ModelConfig(int vocabSize, int dim, int ffnDim, int layers, int heads, int kvHeads, int contextLength,
                       float rmsEps, float ropeBase) {
        this(Architecture.LLAMA, Features.LLAMA2, vocabSize, dim, ffnDim, layers, heads, kvHeads, dim / heads,
                contextLength, rmsEps, ropeBase, 1f, SlidingWindow.NONE);
    }

    /** Width of a token's queries (and of the attention output): heads · headDim. */
    public int qDim() {
        return heads * headDim;
    }

    /** Width of a token's keys (and values) in the cache: kvHeads · headDim. */
    public int kvDim() {
        return kvHeads * headDim;
    }

    public boolean isLocal(int layer) {
        return window.isLocal(layer);
    }

    /** The RoPE base of a layer: local layers have their own (llama_model::get_rope_freq_base). */
    public float ropeBase(int layer) {
        return isLocal(layer) ? window.ropeBase() : ropeBase;
    }

    /** The RoPE frequency scale of a layer: local layers are never scaled (rope_freq_scale_train_swa = 1). */
    public float ropeScale(int layer) {
        return isLocal(layer) ? 1f : ropeScale;
    }

    /**
     * The factor of q·k before the softmax: 1/√headDim; Gemma 3's 27B alone (62 layers) scales by
     * 1/√(dim / heads) (llama_model_gemma3::load_arch_hparams, after gemma_pytorch's query_pre_attn_scalar).
     */
    public float attentionScale() {
        int scaleDim = architecture == Architecture.GEMMA3 && layers == 62 ? dim / heads : headDim;
        return (float) (1.0 / Math.sqrt(scaleDim));
    }

    /** What each token embedding is multiplied by: √dim in float for Gemma (as ggml_scale(inpL, sqrtf(n_embd))), else 1. */
    public float embeddingScale() {
        return features.scaledEmbedding() ? (float) Math.sqrt(dim) : 1f;
    }

    public static ModelConfig fromGguf(GgufFile file) throws GgufFormatException {
        String name = file.getString("general.architecture", null);
        if (name == null) {
            throw new GgufFormatException("metadata key 'general.architecture' is missing");
        }
        Architecture architecture = Architecture.of(name);
        Keys keys = new Keys(file, name + ".");
        GgufTensorInfo embedding = file.tensor(ModelWeights.TOKEN_EMBEDDING);
        if (embedding == null || embedding.shape().length != 2) {
            throw new GgufFormatException("tensor '" + ModelWeights.TOKEN_EMBEDDING + "' is missing or not a matrix");
        }
        int dim = keys.positive("embedding_length");
        int heads = keys.positive("attention.head_count");
        int kvHeads = keys.optionalPositive("attention.head_count_kv", heads);
        if (heads % kvHeads != 0) {
            throw new GgufFormatException("metadata key '" + keys.name("attention.head_count_kv") + "' is " + kvHeads
                    + ", expected a divisor of the head count " + heads);
        }
        if (file.get(keys.name("attention.key_length")) == null && dim % heads != 0) {
            throw new GgufFormatException("metadata key '" + keys.name("attention.head_count") + "' is " + heads
                    + ", which does not split " + keys.name("embedding_length") + " " + dim + " into heads");
        }
        int headDim = keys.optionalPositive("attention.key_length", dim / heads);
        if (headDim % 2 != 0) {
            throw new GgufFormatException("metadata key '" + keys.name("attention.key_length") + "' is " + headDim
                    + ": RoPE needs heads of even size");
        }
        keys.refuseUnless("attention.value_length", dim / heads, headDim,
                "values of another length than the keys (" + headDim + ") are not supported");
        keys.refuseUnless("rope.dimension_count", headDim, headDim,
                "partial rotary embeddings (fewer dimensions than the head's " + headDim + ") are not supported");
        keys.refuseUnless("expert_count", 0, 0, "mixture-of-experts layers are not supported");
        if (!file.getBool(keys.name("attention.causal"), true)) {
            keys.refuse("attention.causal", false, "non-causal attention is not supported");
        }
        double attnFactor = keys.number("rope.scaling.attn_factor", 1);
        if (attnFactor != 1) {
            keys.refuse("rope.scaling.attn_factor", attnFactor, "a RoPE attention factor is not supported");
        }

        SlidingWindow window = SlidingWindow.NONE;
        if (architecture == Architecture.GEMMA3) {
            double softCap = keys.number("final_logit_softcapping", 0);
            if (softCap != 0) {
                keys.refuse("final_logit_softcapping", softCap, "logit soft-capping is not supported");
            }
            window = slidingWindow(keys, headDim);
        }

        long vocab = embedding.shape()[1];
        long declaredVocab = keys.integer("vocab_size", vocab);
        if (declaredVocab != vocab || vocab > Integer.MAX_VALUE) {
            throw new GgufFormatException("metadata key '" + keys.name("vocab_size") + "' is " + declaredVocab
                    + " but the token embedding has " + vocab + " rows");
        }
        boolean qkvBias = file.tensors().stream().map(GgufTensorInfo::name)
                .anyMatch(t -> t.endsWith(".attn_q.bias") || t.endsWith(".attn_k.bias") || t.endsWith(".attn_v.bias"));
        // only llama's builder takes RoPE factors; for the others the tensor is one the model does not use
        boolean ropeFactors = architecture == Architecture.LLAMA && file.tensor(ModelWeights.ROPE_FACTORS) != null;
        return new ModelConfig(architecture, architecture.features(qkvBias, ropeFactors), (int) vocab, dim,
                keys.positive("feed_forward_length"), keys.positive("block_count"), heads, kvHeads, headDim,
                keys.positive("context_length"), keys.positiveFloat("attention.layer_norm_rms_epsilon", Double.NaN),
                keys.positiveFloat("rope.freq_base", 10000.0), ropeScale(keys), window);
    }

    /**
     * llama.cpp's rope_freq_scale: 1 / rope.scaling.factor (or the older rope.scale_linear) for linear scaling, the
     * default type; 1 without a factor or with type "none". YaRN, LongRoPE and the others are refused.
     */
    private static float ropeScale(Keys keys) throws GgufFormatException {
        String type = keys.file.getString(keys.name("rope.scaling.type"), "linear");
        if (type.equals("none")) {
            return 1f;
        }
        if (!type.equals("linear")) {
            keys.refuse("rope.scaling.type", type, "RoPE scaling '" + type + "' is not supported (supported: none, linear)");
        }
        double factor = keys.number("rope.scaling.factor", keys.number("rope.scale_linear", 0));
        if (factor < 0 || Double.isNaN(factor) || Double.isInfinite(factor)) {
            throw new GgufFormatException("metadata key '" + keys.name("rope.scaling.factor") + "' is " + factor
                    + ", expected a positive number");
        }
        return factor == 0 ? 1f : (float) (1.0 / factor);
    }

    /**
     * Gemma 3's local layers (llama_model_gemma3::load_arch_hparams): a window from attention.sliding_window, the
     * pattern period from a scalar attention.sliding_window_pattern (6 without one; an array is not read, as in
     * llama.cpp), RoPE base from rope.freq_base_swa (10000 without one).
     */
    private static SlidingWindow slidingWindow(Keys keys, int headDim) throws GgufFormatException {
        long size = keys.integer("attention.sliding_window", 0);
        if (size <= 0) {
            return SlidingWindow.NONE;
        }
        if (size > 1 << 24) {
            throw new GgufFormatException("metadata key '" + keys.name("attention.sliding_window") + "' is " + size
                    + ", expected 1.." + (1 << 24));
        }
        GgufValue pattern = keys.file.get(keys.name("attention.sliding_window_pattern"));
        long period = pattern == null || pattern.type() == GgufValueType.ARRAY ? 6
                : keys.integer("attention.sliding_window_pattern", 6);
        if (period < 0 || period > 1 << 24) {
            throw new GgufFormatException("metadata key '" + keys.name("attention.sliding_window_pattern") + "' is "
                    + period + ", expected 0.." + (1 << 24));
        }
        keys.refuseUnless("attention.key_length_swa", headDim, headDim, "local layers with another key length are not supported");
        keys.refuseUnless("attention.value_length_swa", headDim, headDim, "local layers with another value length are not supported");
        keys.refuseUnless("rope.dimension_count_swa", headDim, headDim, "local layers with partial rotary embeddings are not supported");
        return new SlidingWindow((int) size, (int) period, keys.positiveFloat("rope.freq_base_swa", 10000.0));
    }

    /** The metadata keys of one architecture ({@code prefix} is "llama." ...). */
    private record Keys(GgufFile file, String prefix) {
        String name(String key) {
            return prefix + key;
        }

        long integer(String key, long fallback) throws GgufFormatException {
            return file.getLong(name(key), fallback);
        }

        double number(String key, double fallback) throws GgufFormatException {
            return file.getDouble(name(key), fallback);
        }

        int positive(String key) throws GgufFormatException {
            if (file.get(name(key)) == null) {
                throw new GgufFormatException("metadata key '" + name(key) + "' is missing");
            }
            return optionalPositive(key, 0);
        }

        int optionalPositive(String key, int fallback) throws GgufFormatException {
            long value = file.getLong(name(key), fallback);
            if (value <= 0 || value > 1 << 24) {
                throw new GgufFormatException("metadata key '" + name(key) + "' is " + value + ", expected 1.." + (1 << 24));
            }
            return (int) value;
        }

        float positiveFloat(String key, double fallback) throws GgufFormatException {
            double value = file.getDouble(name(key), fallback);
            if (file.get(name(key)) == null && Double.isNaN(fallback)) {
                throw new GgufFormatException("metadata key '" + name(key) + "' is missing");
            }
            if (!(value > 0) || Double.isInfinite(value)) {
                throw new GgufFormatException("metadata key '" + name(key) + "' is " + value + ", expected a positive number");
            }
            return (float) value;
        }

        /** Refuses a key whose value (default {@code fallback}) is not {@code expected}: it would need {@code feature}. */
        void refuseUnless(String key, long fallback, long expected, String feature) throws GgufFormatException {
            long value = integer(key, fallback);
            if (value != expected) {
                refuse(key, value, feature);
            }
        }

        /** "qwen2.rope.scaling.type = yarn: RoPE scaling 'yarn' is not supported (supported: none, linear)". */
        void refuse(String key, Object value, String feature) throws GgufFormatException {
            throw new GgufFormatException(name(key) + " = " + value + ": " + feature);
        }
    }
}
