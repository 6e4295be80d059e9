package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;

/**
 * The hyper-parameters of a GGUF Llama model, read from its {@code llama.*} metadata (and the vocabulary
 * size from the token embedding's shape). Defaults follow llama.cpp: KV heads = heads, RoPE base 10000.
 */
public record ModelConfig(int vocabSize, int dim, int ffnDim, int layers, int heads, int kvHeads,
                          int contextLength, float rmsEps, float ropeBase) {
    public static final String ARCHITECTURE = "llama";

    /** Whether this build runs {@code general.architecture}; the model catalog asks here rather than keep a list. */
    public static boolean supports(String architecture) {
        return ARCHITECTURE.equals(architecture);
    }

    public ModelConfig {
        if (dim % heads != 0 || heads % kvHeads != 0 || (dim / heads) % 2 != 0) {
            throw new IllegalArgumentException("dim " + dim + ", heads " + heads + ", KV heads " + kvHeads
                    + " do not split into heads of even size with whole query groups");
        }
    }

    public int headDim() {
        return dim / heads;
    }

    public int kvDim() {
        return kvHeads * headDim();
    }

    public static ModelConfig fromGguf(GgufFile file) throws GgufFormatException {
        String architecture = file.getString("general.architecture", null);
        if (architecture == null) {
            throw new GgufFormatException("metadata key 'general.architecture' is missing", 0);
        }
        if (!architecture.equals(ARCHITECTURE)) {
            throw new GgufFormatException("architecture '" + architecture + "' is not supported (only llama)", 0);
        }
        GgufTensorInfo embedding = file.tensor(ModelWeights.TOKEN_EMBEDDING);
        if (embedding == null || embedding.shape().length != 2) {
            throw new GgufFormatException("tensor '" + ModelWeights.TOKEN_EMBEDDING + "' is missing or not a matrix", 0);
        }
        int dim = positive(file, "llama.embedding_length");
        int heads = positive(file, "llama.attention.head_count");
        int kvHeads = (int) Math.min(Integer.MAX_VALUE, file.getLong("llama.attention.head_count_kv", heads));
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw new GgufFormatException("metadata key 'llama.attention.head_count_kv' is " + kvHeads
                    + ", expected a divisor of the head count " + heads, 0);
        }
        if (dim % heads != 0 || (dim / heads) % 2 != 0) {
            throw new GgufFormatException("metadata key 'llama.attention.head_count' is " + heads
                    + ", which does not split llama.embedding_length " + dim + " into heads of even size", 0);
        }
        long ropeDims = file.getLong("llama.rope.dimension_count", dim / heads);
        if (ropeDims != dim / heads) {
            throw new GgufFormatException("metadata key 'llama.rope.dimension_count' is " + ropeDims
                    + ", only rotary embeddings over the whole head (" + dim / heads + ") are supported", 0);
        }
        long vocab = embedding.shape()[1];
        long declaredVocab = file.getLong("llama.vocab_size", vocab);
        if (declaredVocab != vocab || vocab > Integer.MAX_VALUE) {
            throw new GgufFormatException("metadata key 'llama.vocab_size' is " + declaredVocab
                    + " but the token embedding has " + vocab + " rows", 0);
        }
        return new ModelConfig((int) vocab, dim, positive(file, "llama.feed_forward_length"),
                positive(file, "llama.block_count"), heads, kvHeads, positive(file, "llama.context_length"),
                positiveFloat(file, "llama.attention.layer_norm_rms_epsilon", Double.NaN),
                positiveFloat(file, "llama.rope.freq_base", 10000.0));
    }

    private static int positive(GgufFile file, String key) throws GgufFormatException {
        long value = file.getLong(key, -1);
        if (file.get(key) == null) {
            throw new GgufFormatException("metadata key '" + key + "' is missing", 0);
        }
        if (value <= 0 || value > 1 << 24) {
            throw new GgufFormatException("metadata key '" + key + "' is " + value + ", expected 1.." + (1 << 24), 0);
        }
        return (int) value;
    }

    private static float positiveFloat(GgufFile file, String key, double fallback) throws GgufFormatException {
        double value = file.getDouble(key, fallback);
        if (file.get(key) == null && Double.isNaN(fallback)) {
            throw new GgufFormatException("metadata key '" + key + "' is missing", 0);
        }
        if (!(value > 0) || Double.isInfinite(value)) {
            throw new GgufFormatException("metadata key '" + key + "' is " + value + ", expected a positive number", 0);
        }
        return (float) value;
    }
}
