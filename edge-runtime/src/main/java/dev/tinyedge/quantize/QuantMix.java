package dev.tinyedge.quantize;

import dev.tinyedge.tensor.GgmlType;

import java.util.Arrays;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Which ggml type each tensor of a Llama model gets, following llama.cpp's llama_tensor_get_type
 * (src/llama-quant.cpp) for the mixtures tinyedge writes. Matrices take the mixture's type, with llama.cpp's
 * exceptions: the output head (or the token embedding when it is also the output) goes to Q6_K; in Q4_K_M
 * and Q5_K_M, attn_v and ffn_down of the layers that "use more bits" (the first and last eighth, and every
 * third in between) go to Q6_K; and a type whose block does not divide the row length falls back to the
 * nearest one that does. Norms and other 1-D tensors keep their type. {@code pure} skips the exceptions but
 * not the fallback (as llama-quantize --pure does).
 */
public enum QuantMix {
    F32("f32", 0, GgmlType.F32),
    F16("f16", 1, GgmlType.F16),
    BF16("bf16", 32, GgmlType.BF16),
    Q8_0("q8_0", 7, GgmlType.Q8_0),
    Q4_0("q4_0", 2, GgmlType.Q4_0),
    Q4_1("q4_1", 3, GgmlType.Q4_1),
    Q5_0("q5_0", 8, GgmlType.Q5_0),
    Q5_1("q5_1", 9, GgmlType.Q5_1),
    /** Every matrix Q4_K: Q4_K_M's file type, written --pure. */
    Q4_K("q4_k", 15, GgmlType.Q4_K),
    /** Every matrix Q5_K: Q5_K_M's file type, written --pure. */
    Q5_K("q5_k", 17, GgmlType.Q5_K),
    Q6_K("q6_k", 18, GgmlType.Q6_K),
    Q4_K_M("q4_k_m", 15, GgmlType.Q4_K),
    Q5_K_M("q5_k_m", 17, GgmlType.Q5_K);

    private static final Pattern LAYER = Pattern.compile("^blk\\.(\\d+)\\.");

    /** The name users type ({@code --type q4_k_m}). */
    public final String cliName;
    /** llama.cpp's llama_ftype, stored as general.file_type. */
    public final int fileType;
    /** The type of the matrices that no rule moves elsewhere. */
    public final GgmlType baseType;

    QuantMix(String cliName, int fileType, GgmlType baseType) {
        this.cliName = cliName;
        this.fileType = fileType;
        this.baseType = baseType;
    }

    public static QuantMix parse(String name) {
        for (QuantMix mix : values()) {
            if (mix.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return mix;
            }
        }
        throw new IllegalArgumentException("unknown type '" + name + "' (expected one of " + names() + ")");
    }

    /** The mixture whose matrices are {@code type} (written pure, it is that type throughout). */
    public static QuantMix of(GgmlType type) {
        for (QuantMix mix : values()) {
            if (mix.baseType == type) {
                return mix;
            }
        }
        throw new IllegalArgumentException("no mixture of " + type + " matrices");
    }

    public static String names() {
        return Arrays.stream(values()).map(m -> m.cliName).collect(Collectors.joining(", "));
    }

    /** Whether the mixture is one type throughout, whatever {@code pure} says. */
    public boolean alwaysPure() {
        return this == Q4_K || this == Q5_K;
    }

    /**
     * The type for one tensor.
     *
     * @param sourceType the tensor's type now (kept for tensors that are not quantized)
     * @param layers     the model's block count
     * @param tiedOutput whether the model has no output.weight, so token_embd is also the output head
     */
    public GgmlType typeFor(String name, long[] shape, GgmlType sourceType, int layers, boolean tiedOutput, boolean pure) {
        if (shape.length < 2 || !name.endsWith("weight") || name.contains("_norm.weight")) {
            return sourceType;
        }
        GgmlType type = baseType;
        if (!baseType.isQuantized()) {
            return type;
        }
        if (!pure && !alwaysPure()) {
            type = exception(name, shape, layers, tiedOutput);
        }
        return fallback(shape[0], type);
    }

    private GgmlType exception(String name, long[] shape, int layers, boolean tiedOutput) {
        boolean outputHead = name.equals("output.weight") || (tiedOutput && name.equals("token_embd.weight"));
        if (outputHead) {
            return shape[0] % baseType.blockSize != 0 ? GgmlType.Q8_0 : baseType == GgmlType.Q8_0 ? GgmlType.Q8_0 : GgmlType.Q6_K;
        }
        boolean kMedium = this == Q4_K_M || this == Q5_K_M;
        if (kMedium && (name.contains("attn_v.weight") || name.contains("ffn_down"))) {
            Matcher layer = LAYER.matcher(name);
            if (layer.find() && useMoreBits(Integer.parseInt(layer.group(1)), layers)) {
                return GgmlType.Q6_K;
            }
        }
        return baseType;
    }

    /** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third one between. */
    static boolean useMoreBits(int layer, int layers) {
        return layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;
    }

    /**
     * llama.cpp's tensor_type_fallback: K-quants need rows that are a multiple of 256; narrower rows take
     * the 32-block type of about the same size, and rows that no block fits stay F16 (where llama.cpp gives
     * up on the simple types).
     */
    private static GgmlType fallback(long rowLength, GgmlType type) {
        if (rowLength % type.blockSize == 0) {
            return type;
        }
        GgmlType narrower = switch (type) {
            case Q4_K -> GgmlType.Q5_0;
            case Q5_K -> GgmlType.Q5_1;
            case Q6_K -> GgmlType.Q8_0;
            default -> GgmlType.F16;
        };
        return rowLength % narrower.blockSize == 0 ? narrower : GgmlType.F16;
    }
}
