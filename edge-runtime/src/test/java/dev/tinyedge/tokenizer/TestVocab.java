package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small handcrafted SentencePiece vocabulary laid out like Llama's (0 unknown, 1 BOS, 2 EOS, then the
 * 256 byte tokens), written to a real GGUF file and read back, so tests go through the metadata loader.
 */
final class TestVocab {
    private final List<String> pieces = new ArrayList<>();
    private final List<Float> scores = new ArrayList<>();
    private final List<Integer> types = new ArrayList<>();
    private final Map<String, GgufValue> overrides = new LinkedHashMap<>();

    TestVocab() {
        this(true);
    }

    TestVocab(boolean byteTokens) {
        piece("<unk>", 0, TokenType.UNKNOWN);
        piece("<s>", 0, TokenType.CONTROL);
        piece("</s>", 0, TokenType.CONTROL);
        if (byteTokens) {
            for (int b = 0; b < 256; b++) {
                piece(String.format("<0x%02X>", b), 0, TokenType.BYTE);
            }
        }
    }

    /** Single characters; their score never matters, since no merge makes them. */
    TestVocab chars(String chars) {
        chars.codePoints().forEach(c -> piece(Character.toString(c), -1000));
        return this;
    }

    TestVocab piece(String text, float score) {
        return piece(text, score, TokenType.NORMAL);
    }

    TestVocab piece(String text, float score, TokenType type) {
        pieces.add(text);
        scores.add(score);
        types.add(type.id);
        return this;
    }

    /** Sets (or, with null, removes) a metadata key after the vocabulary's own. */
    TestVocab set(String key, GgufValue value) {
        overrides.put(key, value);
        return this;
    }

    int id(String piece) {
        int id = pieces.indexOf(piece);
        if (id < 0) {
            throw new IllegalArgumentException("no piece " + piece);
        }
        return id;
    }

    int[] ids(String... pieces) {
        int[] ids = new int[pieces.length];
        for (int i = 0; i < pieces.length; i++) {
            ids[i] = id(pieces[i]);
        }
        return ids;
    }

    Path write(Path dir) throws IOException {
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put("general.architecture", GgufValue.string("llama"));
        metadata.put(Vocabulary.MODEL, GgufValue.string("llama"));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(pieces.toArray(String[]::new)));
        float[] s = new float[scores.size()];
        for (int i = 0; i < s.length; i++) {
            s[i] = scores.get(i);
        }
        metadata.put(Vocabulary.SCORES, GgufValue.floats(s));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(types.stream().mapToInt(Integer::intValue).toArray()));
        metadata.put(Vocabulary.BOS_ID, GgufValue.u32(1));
        metadata.put(Vocabulary.EOS_ID, GgufValue.u32(2));
        metadata.put(Vocabulary.UNK_ID, GgufValue.u32(0));
        overrides.forEach((key, value) -> {
            if (value == null) {
                metadata.remove(key);
            } else {
                metadata.put(key, value);
            }
        });
        GgufWriter writer = new GgufWriter();
        metadata.forEach(writer::put);
        Path file = Files.createTempFile(dir, "vocab", ".gguf");
        writer.write(file);
        return file;
    }

    Tokenizer load(Path dir) throws IOException, GgufFormatException {
        try (GgufFile file = GgufFile.open(write(dir))) {
            return Tokenizer.fromGguf(file);
        }
    }
}
