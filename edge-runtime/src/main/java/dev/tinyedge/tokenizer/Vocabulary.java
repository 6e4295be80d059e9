package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The vocabulary a GGUF file stores ({@code tokenizer.ggml.*}), read the way llama.cpp's
 * {@code llama_vocab::load} reads it: scores and token types are optional (0 and normal when absent) but must
 * cover every token when present; special ids fall back to the tokenizer's defaults. Like llama.cpp it then
 * corrects the types by the tokens' text: tokens that end generation or fill in the middle become control
 * tokens even when the converter wrote them as text, and the set of end-of-generation tokens is gathered.
 */
final class Vocabulary {
    static final String MODEL = "tokenizer.ggml.model";
    static final String PRE = "tokenizer.ggml.pre";
    static final String TOKENS = "tokenizer.ggml.tokens";
    static final String SCORES = "tokenizer.ggml.scores";
    static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    static final String MERGES = "tokenizer.ggml.merges";
    static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";

    /** What a tokenizer type assumes when the file does not say (llama.cpp's defaults; -1: no such token). */
    record Defaults(int bos, int eos, int unk, boolean addBos, boolean addSpacePrefix) {}

    /**
     * The fill-in-the-middle roles: their ids (new key, then the deprecated one, which wins, as in llama.cpp),
     * the texts llama.cpp looks for when the file names no id, and whether the role ends generation.
     */
    private enum Fim {
        PRE(List.of("tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.prefix_token_id"), false,
                Set.of("<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\uFF5Cfim\u2581begin\uFF5C>", "<PRE>",
                        "\u2581<PRE>", "<|code_prefix|>", "<|prefix|>")),
        SUF(List.of("tokenizer.ggml.fim_suf_token_id", "tokenizer.ggml.suffix_token_id"), false,
                Set.of("<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\uFF5Cfim\u2581hole\uFF5C>", "<SUF>",
                        "\u2581<SUF>", "<|code_suffix|>", "<|suffix|>")),
        MID(List.of("tokenizer.ggml.fim_mid_token_id", "tokenizer.ggml.middle_token_id"), false,
                Set.of("<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\uFF5Cfim\u2581end\uFF5C>", "<MID>",
                        "\u2581<MID>", "<|code_middle|>", "<|middle|>")),
        PAD(List.of("tokenizer.ggml.fim_pad_token_id"), true,
                Set.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]")),
        REP(List.of("tokenizer.ggml.fim_rep_token_id"), true,
                Set.of("<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>")),
        SEP(List.of("tokenizer.ggml.fim_sep_token_id"), true, Set.of("<|file_sep|>"));

        final List<String> keys;
        final boolean endsGeneration;
        final Set<String> texts;

        Fim(List<String> keys, boolean endsGeneration, Set<String> texts) {
            this.keys = keys;
            this.endsGeneration = endsGeneration;
            this.texts = texts;
        }
    }

    /** The texts llama.cpp treats as ending generation in any vocabulary that has them (llama-vocab.cpp). */
    private static final Set<String> END_OF_GENERATION_TEXTS = Set.of(
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
            "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
            "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
            "<\uFF5Cend\u2581of\u2581sentence\uFF5C>", "[e~[");

    /** gpt-oss's channel markers, which llama.cpp always renders as text. */
    private static final Set<String> ALWAYS_RENDERED = Set.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>");

    final String[] pieces;
    final float[] scores;
    /** The types as llama.cpp uses them: the file's, with its corrections. */
    final TokenType[] types;
    final int bos;
    final int eos;
    final int unk;
    final boolean addBos;
    final boolean addEos;
    final boolean addSpacePrefix;
    private final BitSet endOfGeneration;
    private final Map<String, Integer> ids;
    /** The token for each byte value, for SentencePiece's byte fallback. */
    private final int[] byteTokens = new int[256];

    private Vocabulary(String[] pieces, float[] scores, TokenType[] types, int bos, int eos, int unk,
                       boolean addBos, boolean addEos, boolean addSpacePrefix, BitSet endOfGeneration,
                       Map<String, Integer> ids) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.addBos = addBos;
        this.addEos = addEos;
        this.addSpacePrefix = addSpacePrefix;
        this.endOfGeneration = endOfGeneration;
        this.ids = ids;
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = byteToken(b);
        }
    }

    /** {@code tokenizer.ggml.model}; a file without it has no tokenizer. */
    static String model(GgufFile file) throws GgufFormatException {
        GgufValue model = file.get(MODEL);
        if (model == null) {
            throw new GgufFormatException("metadata key '" + MODEL + "' is missing: the file has no tokenizer");
        }
        if (!(model.value() instanceof String name)) {
            throw new GgufFormatException(MODEL + " is " + describe(model) + ", expected a string");
        }
        return name;
    }

    static Vocabulary fromGguf(GgufFile file, Defaults defaults) throws GgufFormatException {
        String[] pieces = tokens(file);
        int n = pieces.length;
        Map<String, Integer> ids = new HashMap<>(n * 2);
        for (int id = 0; id < n; id++) {
            Integer other = ids.putIfAbsent(pieces[id], id);
            if (other != null) {
                throw new GgufFormatException(TOKENS + " has '" + pieces[id] + "' twice (ids " + other + " and " + id + ")");
            }
        }
        float[] scores = scores(file, n);
        TokenType[] types = types(file, n);
        for (int id = 0; id < n; id++) {
            if (types[id] == TokenType.BYTE && parseByte(pieces[id]) < 0) {
                throw new GgufFormatException(TOKEN_TYPE + " marks token " + id + " '" + pieces[id]
                        + "' as a byte token, but its text is not <0xNN>");
            }
        }
        int bos = tokenId(file, BOS_ID, defaults.bos(), n);
        int eos = tokenId(file, EOS_ID, defaults.eos(), n);
        int unk = tokenId(file, UNK_ID, defaults.unk(), n);
        boolean addBos = bool(file, ADD_BOS, defaults.addBos());
        boolean addEos = bool(file, ADD_EOS, false);
        if (addBos && bos < 0) {
            throw new GgufFormatException(ADD_BOS + " asks for a BOS token, but the vocabulary has none");
        }
        if (addEos && eos < 0) {
            throw new GgufFormatException(ADD_EOS + " asks for an EOS token, but the vocabulary has none");
        }
        BitSet endOfGeneration = endOfGeneration(file, pieces, types, ids, eos);
        return new Vocabulary(pieces, scores, types, bos, eos, unk, addBos, addEos,
                bool(file, ADD_SPACE_PREFIX, defaults.addSpacePrefix()), endOfGeneration, ids);
    }

    /**
     * llama.cpp's end-of-generation set, and the types it corrects on the way: the fill-in-the-middle tokens
     * found by their text and every token whose text is in {@link #END_OF_GENERATION_TEXTS} become control
     * tokens (a vocabulary whose ordinary token spells {@code </s>} gets it as a control token that ends
     * generation); the ids the file names for EOS, EOT and EOM end generation too. When several texts of one
     * fill-in-the-middle role are present, llama.cpp takes the first in its hash map's order; tinyedge takes
     * the lowest id.
     */
    private static BitSet endOfGeneration(GgufFile file, String[] pieces, TokenType[] types, Map<String, Integer> ids,
                                          int eos) throws GgufFormatException {
        int n = pieces.length;
        BitSet ends = new BitSet(n);
        for (Fim role : Fim.values()) {
            int id = -1;
            for (String key : role.keys) {
                id = tokenId(file, key, id, n);
            }
            if (id < 0) {
                id = role.texts.stream().map(ids::get).filter(i -> i != null).mapToInt(Integer::intValue).min().orElse(-1);
                if (id >= 0) {
                    types[id] = TokenType.CONTROL;
                }
            }
            if (id >= 0 && role.endsGeneration) {
                ends.set(id);
            }
        }
        for (String text : END_OF_GENERATION_TEXTS) {
            Integer id = ids.get(text);
            if (id != null) {
                ends.set(id);
                types[id] = TokenType.CONTROL;
            }
        }
        for (String text : ALWAYS_RENDERED) {
            Integer id = ids.get(text);
            if (id != null) {
                types[id] = TokenType.USER_DEFINED;
            }
        }
        for (int id : new int[] {eos, tokenId(file, EOT_ID, -1, n), tokenId(file, EOM_ID, -1, n)}) {
            if (id >= 0) {
                ends.set(id);
            }
        }
        // gpt-oss and Solar Open end a turn with <|return|> or <|call|>/<|calls|>; their <|end|> is text
        Integer end = ids.get("<|end|>");
        boolean call = endsAll(ends, ids, "<|call|>") || endsAll(ends, ids, "<|calls|>");
        if (end != null && ends.get(end) && call && (endsAll(ends, ids, "<|return|>") || endsAll(ends, ids, "<|flush|>"))) {
            ends.clear(end);
            types[end] = TokenType.USER_DEFINED;
        }
        // Gemma 4 and PaddleOCR: </s> is text where <|tool_response> exists
        Integer s = ids.get("</s>");
        if (s != null && ends.get(s) && endsAll(ends, ids, "<|tool_response>")) {
            ends.clear(s);
            types[s] = TokenType.NORMAL;
        }
        return ends;
    }

    private static boolean endsAll(BitSet ends, Map<String, Integer> ids, String... texts) {
        for (String text : texts) {
            Integer id = ids.get(text);
            if (id == null || !ends.get(id)) {
                return false;
            }
        }
        return true;
    }

    int size() {
        return pieces.length;
    }

    /** The id of the token with exactly this text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    boolean endsGeneration(int id) {
        return endOfGeneration.get(id);
    }

    int tokenForByte(int b) {
        return byteTokens[b];
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

    /** A string array key, or a format error naming it. */
    static String[] strings(GgufFile file, String key, String what) throws GgufFormatException {
        GgufValue v = file.get(key);
        if (v == null) {
            throw new GgufFormatException("metadata key '" + key + "' is missing: the file has no " + what);
        }
        if (!(v.value() instanceof String[] strings)) {
            throw new GgufFormatException(key + " is " + describe(v) + ", expected an array of strings");
        }
        return strings;
    }

    private static String[] tokens(GgufFile file) throws GgufFormatException {
        String[] pieces = strings(file, TOKENS, "vocabulary").clone();
        if (pieces.length == 0) {
            throw new GgufFormatException(TOKENS + " is empty");
        }
        for (int id = 0; id < pieces.length; id++) {
            if (pieces[id].isEmpty()) {
                pieces[id] = "[EMPTY_" + id + "]"; // llama.cpp's name for an empty entry, so ids stay aligned
            }
        }
        return pieces;
    }

    private static float[] scores(GgufFile file, int n) throws GgufFormatException {
        GgufValue v = file.get(SCORES);
        if (v == null) {
            return new float[n];
        }
        if (v.type() != GgufValueType.ARRAY
                || (v.elementType() != GgufValueType.FLOAT32 && v.elementType() != GgufValueType.INT32)) {
            throw new GgufFormatException(SCORES + " is " + describe(v) + ", expected an array of f32");
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
            throw new GgufFormatException(TOKEN_TYPE + " is " + describe(v) + ", expected an array of i32");
        }
        if (raw.length < n) {
            throw shortArray(TOKEN_TYPE, raw.length, n);
        }
        for (int id = 0; id < n; id++) {
            types[id] = TokenType.fromId(raw[id]);
        }
        return types;
    }

    /** The id a key names, checked against the vocabulary; {@code fallback} when the key is absent. */
    private static int tokenId(GgufFile file, String key, int fallback, int n) throws GgufFormatException {
        if (file.get(key) == null) {
            return fallback < n ? fallback : -1; // llama.cpp drops a default that the vocabulary cannot hold
        }
        long id = file.getLong(key, fallback);
        if (id < 0 || id >= n) {
            throw new GgufFormatException(key + " is " + id + ", outside the vocabulary of " + n + " tokens");
        }
        return (int) id;
    }

    static boolean bool(GgufFile file, String key, boolean fallback) throws GgufFormatException {
        GgufValue v = file.get(key);
        if (v == null) {
            return fallback;
        }
        if (!(v.value() instanceof Boolean b)) {
            throw new GgufFormatException(key + " is " + describe(v) + ", expected a bool");
        }
        return b;
    }

    private static GgufFormatException shortArray(String key, int length, int n) {
        return new GgufFormatException(key + " has " + length + " entries for " + n + " tokens");
    }

    static String describe(GgufValue v) {
        return v.type() == GgufValueType.ARRAY ? "an array of " + v.elementType() : "a " + v.type();
    }
}
