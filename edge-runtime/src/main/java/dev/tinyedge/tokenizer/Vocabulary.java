package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A SentencePiece vocabulary as a GGUF file stores it ({@code tokenizer.ggml.*}), checked on load the way
 * llama.cpp's {@code llama_vocab::load} reads it: scores and token types are optional (0 and normal when
 * absent) but must cover every token when present; the special ids default to Llama's 1, 2 and 0.
 */
final class Vocabulary {
    static final String MODEL = "tokenizer.ggml.model";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    final String[] pieces;
    final float[] scores;
    final TokenType[] types;
    final int bos;
    final int eos;
    final int unk;
    final boolean addBos;
    final boolean addEos;
    final boolean addSpacePrefix;
    private final Map<String, Integer> ids;
    /** The token for each byte value, for the byte fallback. */
    private final int[] byteTokens = new int[256];

    Vocabulary(String[] pieces, float[] scores, TokenType[] types, int bos, int eos, int unk,
               boolean addBos, boolean addEos, boolean addSpacePrefix) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
        this.ids = new HashMap<>(pieces.length * 2);
        for (int id = 0; id < pieces.length; id++) {
            ids.put(pieces[id], id);
        }
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = byteToken(b);
        }
    }

    static Vocabulary fromGguf(GgufFile file) throws GgufFormatException {
        GgufValue model = file.get(MODEL);
        if (model == null) {
            throw new GgufFormatException("metadata key '" + MODEL + "' is missing: the file has no tokenizer", 0);
        }
        if (!"llama".equals(model.value())) {
            throw new GgufFormatException(MODEL + " is '" + model.value()
                    + "': only 'llama' (SentencePiece) tokenizers are supported", 0);
        }
        String[] pieces = tokens(file);
        int n = pieces.length;
        float[] scores = scores(file, n);
        TokenType[] types = types(file, n);
        for (int id = 0; id < n; id++) {
            if (types[id] == TokenType.BYTE && parseByte(pieces[id]) < 0) {
                throw new GgufFormatException(TOKEN_TYPE + " marks token " + id + " '" + pieces[id]
                        + "' as a byte token, but its text is not <0xNN>", 0);
            }
        }
        int bos = tokenId(file, BOS_ID, 1, n);
        int eos = tokenId(file, EOS_ID, 2, n);
        int unk = tokenId(file, UNK_ID, 0, n);
        return new Vocabulary(pieces, scores, types, bos, eos, unk,
                bool(file, ADD_BOS, true), bool(file, ADD_EOS, false), bool(file, ADD_SPACE_PREFIX, true));
    }

    int size() {
        return pieces.length;
    }

    /** The id of the token with exactly this text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    int tokenForByte(int b) {
        return byteTokens[b];
    }

    /** The UTF-8 bytes of a piece as detokenized text (llama.cpp's {@code token_to_piece} with special=false). */
    byte[] textBytes(int id) {
        return switch (types[id]) {
            case NORMAL -> pieces[id].replace(Tokenizer.SPACE, ' ').getBytes(StandardCharsets.UTF_8);
            case USER_DEFINED -> pieces[id].getBytes(StandardCharsets.UTF_8);
            case BYTE -> new byte[] {(byte) parseByte(pieces[id])};
            case CONTROL, UNKNOWN, UNUSED, UNDEFINED -> new byte[0];
        };
    }

    /** The value of a {@code <0xNN>} token text, or -1 if the text is not one. */
    static int parseByte(String text) {
        if (text.length() != 6 || !text.startsWith("<0x") || text.charAt(5) != '>') {
            return -1;
        }
        int hi = Character.digit(text.charAt(3), 16);
        int lo = Character.digit(text.charAt(4), 16);
        return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
    }

    /** {@code <0xNN>} with upper-case hex as llama.cpp spells it, else the one-byte text, else unknown. */
    private int byteToken(int b) {
        int id = id(String.format("<0x%02X>", b));
        if (id < 0 && b < 0x80) {
            id = id(String.valueOf((char) b));
        }
        return id >= 0 ? id : unk;
    }

    private static String[] tokens(GgufFile file) throws GgufFormatException {
        GgufValue v = file.get(TOKENS);
        if (v == null) {
            throw new GgufFormatException("metadata key '" + TOKENS + "' is missing: the file has no vocabulary", 0);
        }
        if (!(v.value() instanceof String[] pieces)) {
            throw new GgufFormatException(TOKENS + " is " + describe(v) + ", expected an array of strings", 0);
        }
        if (pieces.length == 0) {
            throw new GgufFormatException(TOKENS + " is empty", 0);
        }
        String[] copy = pieces.clone();
        Map<String, Integer> seen = new HashMap<>(copy.length * 2);
        for (int id = 0; id < copy.length; id++) {
            if (copy[id].isEmpty()) {
                copy[id] = "[EMPTY_" + id + "]"; // llama.cpp's name for an empty entry, so ids stay aligned
            }
            Integer other = seen.putIfAbsent(copy[id], id);
            if (other != null) {
                throw new GgufFormatException(TOKENS + " has '" + copy[id] + "' twice (ids " + other + " and " + id + ")", 0);
            }
        }
        return copy;
    }

    private static float[] scores(GgufFile file, int n) throws GgufFormatException {
        GgufValue v = file.get(SCORES);
        if (v == null) {
            return new float[n];
        }
        if (v.type() != GgufValueType.ARRAY
                || (v.elementType() != GgufValueType.FLOAT32 && v.elementType() != GgufValueType.INT32)) {
            throw new GgufFormatException(SCORES + " is " + describe(v) + ", expected an array of f32", 0);
        }
        if (v.length() < n) {
            throw shortArray(SCORES, v.length(), n);
        }
        float[] scores = new float[n];
        for (int id = 0; id < n; id++) {
            scores[id] = v.value() instanceof float[] f ? f[id] : ((int[]) v.value())[id];
        }
        return scores;
    }

    private static TokenType[] types(GgufFile file, int n) throws GgufFormatException {
        TokenType[] types = new TokenType[n];
        GgufValue v = file.get(TOKEN_TYPE);
        if (v == null) {
            Arrays.fill(types, TokenType.NORMAL);
            return types;
        }
        if (!(v.value() instanceof int[] raw) || v.elementType() != GgufValueType.INT32) {
            throw new GgufFormatException(TOKEN_TYPE + " is " + describe(v) + ", expected an array of i32", 0);
        }
        if (raw.length < n) {
            throw shortArray(TOKEN_TYPE, raw.length, n);
        }
        for (int id = 0; id < n; id++) {
            types[id] = TokenType.fromId(raw[id]);
        }
        return types;
    }

    private static int tokenId(GgufFile file, String key, int fallback, int n) throws GgufFormatException {
        long id = file.getLong(key, fallback);
        if (id < 0 || id >= n) {
            throw new GgufFormatException(key + " is " + id + ", outside the vocabulary of " + n + " tokens", 0);
        }
        return (int) id;
    }

    private static boolean bool(GgufFile file, String key, boolean fallback) throws GgufFormatException {
        GgufValue v = file.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v.value() instanceof Boolean b)) {
            throw new GgufFormatException(key + " is " + describe(v) + ", expected a bool", 0);
        }
        return b;
    }

    private static GgufFormatException shortArray(String key, int length, int n) {
        return new GgufFormatException(key + " has " + length + " entries for " + n + " tokens", 0);
    }

    private static String describe(GgufValue v) {
        return v.type() == GgufValueType.ARRAY ? "an array of " + v.elementType() : "a " + v.type();
    }
}
