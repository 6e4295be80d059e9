package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A model's weights as tensors over the GGUF file's mapping (nothing is copied). Shapes are in GGUF order,
 * [in, out]: each matrix maps an {@code in}-vector to an {@code out}-vector. Without an {@code output.weight}
 * the output head is the token embedding (tied embeddings). Which tensors a layer has follows llama.cpp's
 * load_arch_tensors for the architecture; as in llama.cpp, a file with a tensor the model does not use is
 * refused (it would belong to a feature tinyedge does not run).
 *
 * @param ropeFactors per-dimension RoPE frequency divisors ({@code rope_freqs.weight}, Llama 3), or null
 */
public record ModelWeights(ModelConfig config, FloatTensor tokenEmbedding, List<Layer> layers,
                           FloatTensor outputNorm, FloatTensor output, FloatTensor ropeFactors) {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";
    public static final String ROPE_FACTORS = "rope_freqs.weight";

    /**
     * One transformer block. The biases are null where the file has none; the Q/K norms (per head, before RoPE)
     * are null unless the family has them, likewise the norms of the attention and feed-forward outputs.
     */
    public record Layer(FloatTensor attentionNorm, FloatTensor query, FloatTensor key, FloatTensor value,
                        FloatTensor attentionOutput, FloatTensor ffnNorm, FloatTensor gate, FloatTensor up,
                        FloatTensor down, FloatTensor queryBias, FloatTensor keyBias, FloatTensor valueBias,
                        FloatTensor queryNorm, FloatTensor keyNorm, FloatTensor postAttentionNorm,
                        FloatTensor postFfnNorm) {
    }

    public static ModelWeights load(GgufFile file) throws GgufFormatException {
        ModelConfig c = ModelConfig.fromGguf(file);
        Features f = c.features();
        if (file.tensor("blk.0.attn_qkv.weight") != null) {
            throw new GgufFormatException("fused Q/K/V tensors (blk.0.attn_qkv.weight) are not supported");
        }
        Tensors t = new Tensors(file);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    t.get(p + "attn_norm.weight", c.dim()),
                    t.get(p + "attn_q.weight", c.dim(), c.qDim()),
                    t.get(p + "attn_k.weight", c.dim(), c.kvDim()),
                    t.get(p + "attn_v.weight", c.dim(), c.kvDim()),
                    t.get(p + "attn_output.weight", c.qDim(), c.dim()),
                    t.get(p + "ffn_norm.weight", c.dim()),
                    t.get(p + "ffn_gate.weight", c.dim(), c.ffnDim()),
                    t.get(p + "ffn_up.weight", c.dim(), c.ffnDim()),
                    t.get(p + "ffn_down.weight", c.ffnDim(), c.dim()),
                    t.optional(p + "attn_q.bias", c.qDim()),
                    t.optional(p + "attn_k.bias", c.kvDim()),
                    t.optional(p + "attn_v.bias", c.kvDim()),
                    f.qkNorm() ? t.get(p + "attn_q_norm.weight", c.headDim()) : null,
                    f.qkNorm() ? t.get(p + "attn_k_norm.weight", c.headDim()) : null,
                    f.postNorms() ? t.get(p + "post_attention_norm.weight", c.dim()) : null,
                    f.postNorms() ? t.get(p + "post_ffw_norm.weight", c.dim()) : null);
        }
        FloatTensor embedding = t.get(TOKEN_EMBEDDING, c.dim(), c.vocabSize());
        FloatTensor output = file.tensor(OUTPUT) != null ? t.get(OUTPUT, c.dim(), c.vocabSize()) : embedding;
        FloatTensor ropeFactors = f.ropeFactors() ? t.get(ROPE_FACTORS, c.headDim() / 2) : null;
        if (ropeFactors != null && ropeFactors.type() != GgmlType.F32) {
            throw new GgufFormatException("tensor '" + ROPE_FACTORS + "' has type " + ropeFactors.type() + ", expected F32");
        }
        ModelWeights weights = new ModelWeights(c, embedding, List.of(layers), t.get(OUTPUT_NORM, c.dim()), output,
                ropeFactors);
        t.refuseUnused(c.architecture());
        return weights;
    }

    /** The file's tensors, checked against the shapes the model needs; remembers which were taken. */
    private record Tensors(GgufFile file, Set<String> taken) {
        Tensors(GgufFile file) {
            this(file, new HashSet<>());
        }

        FloatTensor get(String name, long... shape) throws GgufFormatException {
            if (file.tensor(name) == null) {
                throw new GgufFormatException("tensor '" + name + "' is missing");
            }
            return optional(name, shape);
        }

        /** The tensor, or null where the file has none. */
        FloatTensor optional(String name, long... shape) throws GgufFormatException {
            GgufTensorInfo info = file.tensor(name);
            if (info == null) {
                return null;
            }
            if (!Arrays.equals(info.shape(), shape)) {
                throw new GgufFormatException("tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                        + ", expected " + Arrays.toString(shape));
            }
            if (!FloatTensor.isSupported(info.type())) {
                throw new GgufFormatException("tensor '" + name + "' has type " + info.type()
                        + ", which tinyedge cannot run yet (supported: " + FloatTensor.supportedTypes() + ")");
            }
            taken.add(name);
            return FloatTensor.of(info.type(), file.data(info), info.elementCount());
        }

        /** llama.cpp refuses a file with tensors its model does not use (done_getting_tensors); so does tinyedge. */
        void refuseUnused(Architecture architecture) throws GgufFormatException {
            for (GgufTensorInfo info : file.tensors()) {
                if (!taken.contains(info.name())) {
                    throw new GgufFormatException("tensor '" + info.name() + "' is not part of a " + architecture.ggufName
                            + " model as tinyedge (and llama.cpp) runs it: an unsupported feature");
                }
            }
        }
    }

    /** Whether the output head is the token embedding. */
    public boolean tiedOutput() {
        return output == tokenEmbedding;
    }
}
