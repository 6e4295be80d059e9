package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.FloatTensor;

import java.util.Arrays;
import java.util.List;

/**
 * A Llama model's weights as tensors over the GGUF file's mapping (nothing is copied). Shapes are in GGUF
 * order, [in, out]: each matrix maps an {@code in}-vector to an {@code out}-vector. Without an
 * {@code output.weight} the output head is the token embedding (tied embeddings).
 */
public record ModelWeights(ModelConfig config, FloatTensor tokenEmbedding, List<Layer> layers,
                         FloatTensor outputNorm, FloatTensor output) {
    public static final String TOKEN_EMBEDDING = "token_embd.weight";
    public static final String OUTPUT_NORM = "output_norm.weight";
    public static final String OUTPUT = "output.weight";

    /** One transformer block. */
    public record Layer(FloatTensor attentionNorm, FloatTensor query, FloatTensor key, FloatTensor value,
                        FloatTensor attentionOutput, FloatTensor ffnNorm, FloatTensor gate, FloatTensor up,
                        FloatTensor down) {
    }

    public static ModelWeights load(GgufFile file) throws GgufFormatException {
        ModelConfig c = ModelConfig.fromGguf(file);
        Layer[] layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            String p = "blk." + i + ".";
            layers[i] = new Layer(
                    tensor(file, p + "attn_norm.weight", c.dim()),
                    tensor(file, p + "attn_q.weight", c.dim(), c.dim()),
                    tensor(file, p + "attn_k.weight", c.dim(), c.kvDim()),
                    tensor(file, p + "attn_v.weight", c.dim(), c.kvDim()),
                    tensor(file, p + "attn_output.weight", c.dim(), c.dim()),
                    tensor(file, p + "ffn_norm.weight", c.dim()),
                    tensor(file, p + "ffn_gate.weight", c.dim(), c.ffnDim()),
                    tensor(file, p + "ffn_up.weight", c.dim(), c.ffnDim()),
                    tensor(file, p + "ffn_down.weight", c.ffnDim(), c.dim()));
        }
        FloatTensor embedding = tensor(file, TOKEN_EMBEDDING, c.dim(), c.vocabSize());
        FloatTensor output = file.tensor(OUTPUT) != null ? tensor(file, OUTPUT, c.dim(), c.vocabSize()) : embedding;
        return new ModelWeights(c, embedding, List.of(layers), tensor(file, OUTPUT_NORM, c.dim()), output);
    }

    private static FloatTensor tensor(GgufFile file, String name, long... shape) throws GgufFormatException {
        GgufTensorInfo info = file.tensor(name);
        if (info == null) {
            throw new GgufFormatException("tensor '" + name + "' is missing", 0);
        }
        if (!Arrays.equals(info.shape(), shape)) {
            throw new GgufFormatException("tensor '" + name + "' has shape " + Arrays.toString(info.shape())
                    + ", expected " + Arrays.toString(shape), 0);
        }
        if (!FloatTensor.isSupported(info.type())) {
            throw new GgufFormatException("tensor '" + name + "' has type " + info.type()
                    + ", which tinyedge cannot run yet (supported: " + FloatTensor.supportedTypes() + ")", 0);
        }
        return FloatTensor.of(info.type(), file.data(info), info.elementCount());
    }

    /** Whether the output head is the token embedding. */
    public boolean tiedOutput() {
        return output == tokenEmbedding;
    }
}
