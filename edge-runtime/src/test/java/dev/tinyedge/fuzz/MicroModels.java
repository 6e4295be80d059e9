package dev.tinyedge.fuzz;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Complete Llama GGUF files of a few kilobytes: the GGUF target's seeds (small, so that the fuzzer mutates
 * them quickly) and a SentencePiece vocabulary with byte tokens and a user-defined token for the tokenizer
 * target. {@link #main} writes the seeds into the GGUF target's inputs folder; {@code bench/fuzz.sh} runs it
 * before fuzzing, so the seeds always come from the current writer.
 */
final class MicroModels {
    /** llama.cpp's token types (TokenType is package-private to the tokenizer). */
    private static final int NORMAL = 1;
    private static final int UNKNOWN = 2;
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;
    private static final int BYTE = 6;
    static final String USER_DEFINED_PIECE = "<|sep|>";
    private static final String[] MERGED = {"▁t", "th", "he", "▁the", "in", "er", "▁a", "an", "▁w", "or"};

    private MicroModels() {
    }

    /**
     * A SentencePiece vocabulary: unknown, BOS, EOS, optionally the 256 byte tokens, a user-defined token,
     * U+2581, the letters and a few merges.
     */
    static void putVocabulary(GgufWriter w, boolean byteTokens) {
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(UNKNOWN, CONTROL, CONTROL));
        if (byteTokens) {
            for (int b = 0; b < 256; b++) {
                pieces.add(String.format("<0x%02X>", b));
                types.add(BYTE);
            }
        }
        pieces.add(USER_DEFINED_PIECE);
        types.add(USER_DEFINED);
        pieces.add("▁");
        types.add(NORMAL);
        for (char c = 'a'; c <= 'z'; c++) {
            pieces.add(String.valueOf(c));
            types.add(NORMAL);
        }
        int firstMerge = pieces.size();
        for (String merged : MERGED) {
            pieces.add(merged);
            types.add(NORMAL);
        }
        float[] scores = new float[pieces.size()];
        for (int id = firstMerge; id < scores.length; id++) {
            scores[id] = -(id - firstMerge); // earlier merges first
        }
        for (int id = 0; id < firstMerge; id++) {
            scores[id] = -1000;
        }
        w.put("tokenizer.ggml.model", GgufValue.string("llama"))
                .put("tokenizer.ggml.tokens", GgufValue.strings(pieces.toArray(String[]::new)))
                .put("tokenizer.ggml.scores", GgufValue.floats(scores))
                .put("tokenizer.ggml.token_type", GgufValue.i32s(types.stream().mapToInt(Integer::intValue).toArray()))
                .put("tokenizer.ggml.bos_token_id", GgufValue.u32(1))
                .put("tokenizer.ggml.eos_token_id", GgufValue.u32(2))
                .put("tokenizer.ggml.unknown_token_id", GgufValue.u32(0));
    }

    static int vocabularySize(boolean byteTokens) {
        return 3 + (byteTokens ? 256 : 0) + 2 + 26 + MERGED.length;
    }

    /** A one-layer model with every matrix in {@code type} and a vocabulary without byte tokens. */
    static GgufWriter model(GgmlType type, int dim, int heads, int kvHeads, int ffnDim, boolean outputHead) {
        return model(type, dim, heads, kvHeads, ffnDim, outputHead, false);
    }

    /**
     * {@code byteTokens} makes the vocabulary larger than the token embedding: the first finding, a file that
     * loaded and then failed its first forward pass on a token id outside the embedding.
     */
    private static GgufWriter model(GgmlType type, int dim, int heads, int kvHeads, int ffnDim, boolean outputHead,
                                    boolean byteTokens) {
        ModelConfig config = new ModelConfig(vocabularySize(false), dim, ffnDim, 1, heads, kvHeads, 32, 1e-5f, 10000f);
        GgufWriter w = SyntheticModel.writer(new SyntheticModel.Preset("micro", config, outputHead),
                QuantMix.of(type), true, 11);
        putVocabulary(w, byteTokens);
        return w;
    }

    /** Writes the GGUF target's seeds into {@code args[0]}. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        model(GgmlType.F32, 8, 2, 1, 16, false).write(dir.resolve("seed-f32-tied.gguf"));
        model(GgmlType.F16, 8, 2, 2, 12, true).write(dir.resolve("seed-f16-head.gguf"));
        model(GgmlType.Q8_0, 32, 4, 2, 32, false).write(dir.resolve("seed-q8_0.gguf"));
        model(GgmlType.Q4_0, 32, 2, 1, 64, true).write(dir.resolve("seed-q4_0-head.gguf"));
        model(GgmlType.F32, 8, 2, 1, 16, false, true).write(dir.resolve("finding-vocabulary-beyond-embedding.gguf"));
    }
}
