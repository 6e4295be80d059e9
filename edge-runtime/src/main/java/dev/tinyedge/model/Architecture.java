package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.model.Features.Activation;
import dev.tinyedge.model.Features.RopeStyle;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The GGUF architectures tinyedge runs ({@code general.architecture}), each with the parts of its block that
 * llama.cpp's builder always builds for it (src/models/{llama,qwen2,qwen3,gemma3}.cpp; the RoPE style from
 * llama_model_rope_type). The optional parts (Q/K/V biases, RoPE factors) depend on the file.
 */
public enum Architecture {
    LLAMA("llama", RopeStyle.ADJACENT_PAIRS, false, false, Activation.SILU, false),
    QWEN2("qwen2", RopeStyle.NEOX, false, false, Activation.SILU, false),
    QWEN3("qwen3", RopeStyle.NEOX, true, false, Activation.SILU, false),
    GEMMA3("gemma3", RopeStyle.NEOX, true, true, Activation.GELU_TANH, true);

    /** The name in {@code general.architecture}, and the prefix of the architecture's metadata keys. */
    public final String ggufName;
    private final RopeStyle rope;
    private final boolean qkNorm;
    private final boolean postNorms;
    private final Activation activation;
    private final boolean scaledEmbedding;

    Architecture(String ggufName, RopeStyle rope, boolean qkNorm, boolean postNorms, Activation activation,
                 boolean scaledEmbedding) {
        this.ggufName = ggufName;
        this.rope = rope;
        this.qkNorm = qkNorm;
        this.postNorms = postNorms;
        this.activation = activation;
        this.scaledEmbedding = scaledEmbedding;
    }

    /** The block of this architecture, with the optional parts a file has. */
    public Features features(boolean qkvBias, boolean ropeFactors) {
        return new Features(rope, ropeFactors, qkvBias, qkNorm, postNorms, activation, scaledEmbedding);
    }

    public static Architecture of(String ggufName) throws GgufFormatException {
        for (Architecture a : values()) {
            if (a.ggufName.equals(ggufName)) {
                return a;
            }
        }
        throw new GgufFormatException("architecture '" + ggufName + "' is not supported (supported: " + supported() + ")");
    }

    /** "llama, qwen2, qwen3, gemma3". */
    public static String supported() {
        return Arrays.stream(values()).map(a -> a.ggufName).collect(Collectors.joining(", "));
    }
}
