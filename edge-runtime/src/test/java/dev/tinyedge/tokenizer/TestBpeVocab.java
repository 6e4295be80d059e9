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
 * A small handcrafted byte-level BPE vocabulary: the 256 one-byte tokens in GPT-2's spelling (ids 0..255 in
 * byte order), then the tokens the merges make and any special tokens, written to a real GGUF file and read
 * back. Texts given to {@link #merge} and {@link #id} are plain text; they are spelled as GPT-2 does here.
 */
final class TestBpeVocab {
    private final List<String> tokens = new ArrayList<>();
    private final List<Integer> types = new ArrayList<>();
    private final List<String> merges = new ArrayList<>();
    private final Map<String, GgufValue> overrides = new LinkedHashMap<>();

    TestBpeVocab(String pre) {
        for (int b = 0; b < 256; b++) {
            add(String.valueOf(ByteLevel.charOf(b)), TokenType.NORMAL);
        }
        overrides.put(Vocabulary.PRE, GgufValue.string(pre));
    }

    /** GPT-2's spelling of plain text. */
    static String spell(String text) {
        byte[] utf8 = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        return ByteLevel.encode(utf8, 0, utf8.length);
    }

    /** Adds the merge of two plain-text pieces (the next rank) and the token it makes. */
    TestBpeVocab merge(String left, String right) {
        merges.add(spell(left) + " " + spell(right));
        if (!tokens.contains(spell(left + right))) {
            add(spell(left + right), TokenType.NORMAL);
        }
        return this;
    }

    /** Adds a token stored as written, as converters store added tokens. */
    TestBpeVocab token(String text, TokenType type) {
        add(text, type);
        return this;
    }

    /** Adds a raw line to tokenizer.ggml.merges. */
    TestBpeVocab mergeLine(String line) {
        merges.add(line);
        return this;
    }

    /** Sets (or, with null, removes) a metadata key after the vocabulary's own. */
    TestBpeVocab set(String key, GgufValue value) {
        overrides.put(key, value);
        return this;
    }

    private void add(String text, TokenType type) {
        tokens.add(text);
        types.add(type.id);
    }

    /** The id of a token by its plain text (an ordinary token) or as stored (a special one). */
    int id(String text) {
        int id = tokens.indexOf(spell(text));
        if (id < 0) {
            id = tokens.indexOf(text);
        }
        if (id < 0) {
            throw new IllegalArgumentException("no token " + text);
        }
        return id;
    }

    int[] ids(String... texts) {
        int[] ids = new int[texts.length];
        for (int i = 0; i < texts.length; i++) {
            ids[i] = id(texts[i]);
        }
        return ids;
    }

    Path write(Path dir) throws IOException {
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put("general.architecture", GgufValue.string("llama"));
        metadata.put(Vocabulary.MODEL, GgufValue.string("gpt2"));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(tokens.toArray(String[]::new)));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(types.stream().mapToInt(Integer::intValue).toArray()));
        metadata.put(Vocabulary.MERGES, GgufValue.strings(merges.toArray(String[]::new)));
        overrides.forEach((key, value) -> {
            if (value == null) {
                metadata.remove(key);
            } else {
                metadata.put(key, value);
            }
        });
        GgufWriter writer = new GgufWriter();
        metadata.forEach(writer::put);
        Path file = Files.createTempFile(dir, "bpe", ".gguf");
        writer.write(file);
        return file;
    }

    Tokenizer load(Path dir) throws IOException, GgufFormatException {
        try (GgufFile file = GgufFile.open(write(dir))) {
            return Tokenizer.fromGguf(file);
        }
    }
}
