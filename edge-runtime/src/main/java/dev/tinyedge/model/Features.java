package dev.tinyedge.model;

import java.util.ArrayList;
import java.util.List;

/**
 * What a model's transformer block computes beyond the plain Llama-2 block (RMSNorm, adjacent-pair RoPE,
 * grouped-query attention, SwiGLU), as llama.cpp's builder for its architecture (src/models/*.cpp) decides:
 * some parts come with the architecture, the optional ones with the tensors the file holds.
 *
 * @param rope            which elements of a head RoPE turns together
 * @param ropeFactors     per-dimension frequency divisors from {@code rope_freqs.weight} (Llama 3)
 * @param qkvBias         biases added to the Q, K and V projections (Qwen2)
 * @param qkNorm          RMSNorm of each query and key head before RoPE (Qwen3, Gemma 3)
 * @param postNorms       RMSNorm of the attention and feed-forward outputs before their residual adds (Gemma 3)
 * @param activation      the feed-forward's gate
 * @param scaledEmbedding token embeddings multiplied by √dim (Gemma 3)
 */
public record Features(RopeStyle rope, boolean ropeFactors, boolean qkvBias, boolean qkNorm, boolean postNorms,
                       Activation activation, boolean scaledEmbedding) {

    /** The pairs RoPE rotates within a head of n elements. */
    public enum RopeStyle {
        /** (2i, 2i+1): llama.cpp's LLAMA_ROPE_TYPE_NORM. */
        ADJACENT_PAIRS,
        /** (i, i + n/2): LLAMA_ROPE_TYPE_NEOX. */
        NEOX
    }

    /** The gated feed-forward's activation: act(gate · x) ⊙ (up · x). */
    public enum Activation {
        SILU,
        /** GELU in its tanh form, as ggml's CPU backend computes it (through an fp16 table). */
        GELU_TANH
    }

    /** The plain Llama-2 block. */
    public static final Features LLAMA2 = new Features(RopeStyle.ADJACENT_PAIRS, false, false, false, false,
            Activation.SILU, false);

    /** Short names of what this block has beyond {@link #LLAMA2}, for {@code inspect}. */
    public List<String> names() {
        List<String> names = new ArrayList<>();
        names.add(rope == RopeStyle.NEOX ? "NEOX RoPE" : "RoPE");
        if (ropeFactors) {
            names.add("RoPE factors");
        }
        if (qkvBias) {
            names.add("Q/K/V biases");
        }
        if (qkNorm) {
            names.add("Q/K norms");
        }
        if (postNorms) {
            names.add("post-norms");
        }
        names.add(activation == Activation.SILU ? "SwiGLU" : "GeGLU (tanh)");
        if (scaledEmbedding) {
            names.add("embeddings x sqrt(dim)");
        }
        return names;
    }
}
