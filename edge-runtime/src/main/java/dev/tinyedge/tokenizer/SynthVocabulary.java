package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;

/**
 * PLACEHOLDER for the tokenizer branch's synthetic vocabulary (which replaces this whole file): writes
 * {@code <unk>, <s>, </s>}, the 256 byte tokens and filler tokens up to Llama-2's 32000, plus the
 * tokenizer.* keys a Llama GGUF carries.
 */
public final class SynthVocabulary {
    private static final int SIZE = 32000;

    private SynthVocabulary() {
    }

    public static SynthVocabulary load() {
        return new SynthVocabulary();
    }

    public void writeTo(GgufWriter writer) {
        String[] tokens = new String[SIZE];
        float[] scores = new float[SIZE];
        int[] types = new int[SIZE];
        tokens[0] = "<unk>";
        types[0] = 2;
        tokens[1] = "<s>";
        types[1] = 3;
        tokens[2] = "</s>";
        types[2] = 3;
        for (int b = 0; b < 256; b++) {
            tokens[3 + b] = String.format("<0x%02X>", b);
            types[3 + b] = 6;
        }
        for (int id = 259; id < SIZE; id++) {
            tokens[id] = "<unused" + id + ">";
            types[id] = 5;
        }
        writer.put("tokenizer.ggml.model", GgufValue.string("llama"))
                .put("tokenizer.ggml.tokens", GgufValue.strings(tokens))
                .put("tokenizer.ggml.scores", GgufValue.floats(scores))
                .put("tokenizer.ggml.token_type", GgufValue.i32s(types))
                .put("tokenizer.ggml.bos_token_id", GgufValue.u32(1))
                .put("tokenizer.ggml.eos_token_id", GgufValue.u32(2))
                .put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0));
    }
}
