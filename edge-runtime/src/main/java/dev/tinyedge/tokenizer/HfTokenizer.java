package dev.tinyedge.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tinyedge.gguf.GgufValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json} and {@code tokenizer_config.json}) as GGUF tokenizer metadata,
 * the way llama.cpp's convert_hf_to_gguf.py writes it: byte-level BPE vocabularies as its {@code _set_vocab_gpt2}
 * (added tokens that are special or look special are control tokens, the others user-defined), SentencePiece
 * ones as {@code _set_vocab_sentencepiece}, and the special ids, add-BOS/EOS flags and chat template as gguf-py's
 * {@code SpecialVocab} reads them. tests/python/hf_tokenizer.py is the same conversion in Python with the pinned
 * gguf package; the tests check that both write the same metadata. Not written: {@code add_sep_token}, which
 * llama.cpp reads for neither tokenizer type.
 *
 * <p>Where the converter needs more than the two files: it picks {@code pre} by hashing a tokenization, reads
 * ids from the model's config.json, and reads SentencePiece scores from tokenizer.model; the family supplies the
 * first two, and the scores are derived from the merges ({@link MergeScores}).
 */
final class HfTokenizer {
    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private static final String[] SPECIAL_TYPES = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
    private static final Map<String, String> ID_KEYS = Map.of(
            "bos", Vocabulary.BOS_ID, "eos", Vocabulary.EOS_ID, "unk", Vocabulary.UNK_ID,
            "sep", "tokenizer.ggml.seperator_token_id", "pad", "tokenizer.ggml.padding_token_id",
            "cls", "tokenizer.ggml.cls_token_id", "mask", "tokenizer.ggml.mask_token_id");
    private static final Pattern BYTE_PIECE = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    record AddedToken(int id, String content, boolean special) {}

    private final Map<String, Integer> vocab = new HashMap<>();
    /** The merges as gguf-py writes them to tokenizer.ggml.merges. */
    private final List<String> mergeLines = new ArrayList<>();
    /** The merges' two parts as tokenizer.json has them. */
    private final List<String[]> mergePairs = new ArrayList<>();
    private final List<AddedToken> added = new ArrayList<>();
    private String unknownToken;
    private JsonNode postProcessor;
    private final JsonNode config;

    private HfTokenizer(Path dir) throws IOException {
        readTokenizerJson(dir.resolve("tokenizer.json"));
        config = JSON.readTree(dir.resolve("tokenizer_config.json").toFile());
    }

    /** The metadata for {@code family} from the folder holding its two files, padded to {@code vocabSize}. */
    static Map<String, GgufValue> convert(Path dir, TokenizerFamily family, int vocabSize) throws IOException {
        HfTokenizer hf = new HfTokenizer(dir);
        return family.pre == null ? hf.sentencePiece(family, vocabSize) : hf.bytePairs(family, vocabSize);
    }

    /** convert_hf_to_gguf.py's does_token_look_special. */
    static boolean looksSpecial(String token) {
        return token.equals("<pad>") || token.equals("<mask>") || token.equals("<2mass>") || token.equals("[@BOS@]")
                || (token.startsWith("<|") && token.endsWith("|>"))
                || (token.startsWith("<\uFF5C") && token.endsWith("\uFF5C>"))
                || (token.startsWith("<unused") && token.endsWith(">"));
    }

    /** get_vocab_base and _set_vocab_gpt2. */
    private Map<String, GgufValue> bytePairs(TokenizerFamily family, int vocabSize) throws IOException {
        Map<Integer, String> byId = new HashMap<>();
        vocab.forEach((text, id) -> byId.put(id, text));
        Map<String, AddedToken> addedByText = new HashMap<>();
        for (AddedToken token : added) {
            byId.put(token.id(), token.content());
            addedByText.put(token.content(), token);
        }
        int largest = byId.keySet().stream().mapToInt(Integer::intValue).max().orElse(-1);
        if (largest >= vocabSize) {
            throw new IOException("the tokenizer has ids up to " + largest + ", more than a vocabulary of " + vocabSize);
        }
        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++) {
            String token = byId.get(id);
            TokenType type = TokenType.NORMAL;
            if (token == null) {
                token = "[PAD" + id + "]";
                type = TokenType.UNUSED;
            } else if (addedByText.containsKey(token)) {
                if (addedByText.get(token).special() || looksSpecial(token)) {
                    type = TokenType.CONTROL;
                } else {
                    token = token.replace(Tokenizer.SPACE, ' ');
                    type = TokenType.USER_DEFINED;
                }
            }
            tokens[id] = token;
            types[id] = type.id;
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put(Vocabulary.MODEL, GgufValue.string("gpt2"));
        metadata.put(Vocabulary.PRE, GgufValue.string(family.pre));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(tokens));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(types));
        metadata.put(Vocabulary.MERGES, GgufValue.strings(mergeLines.toArray(String[]::new)));
        addSpecialVocab(metadata, family, null);
        return metadata;
    }

    /** _create_vocab_sentencepiece and _set_vocab_sentencepiece, with the scores derived from the merges. */
    private Map<String, GgufValue> sentencePiece(TokenizerFamily family, int vocabSize) throws IOException {
        String[] tokens = new String[vocabSize];
        int[] types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++) {
            tokens[id] = "[PAD" + id + "]";
            types[id] = TokenType.UNUSED.id;
        }
        int[] madeBy = new int[mergePairs.size()];
        for (int rank = 0; rank < madeBy.length; rank++) {
            madeBy[rank] = vocab.getOrDefault(mergePairs.get(rank)[0] + mergePairs.get(rank)[1], -1);
        }
        int largest = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        float[] derived = MergeScores.derive(madeBy, Math.max(largest + 1, vocabSize), -madeBy.length);
        float[] scores = new float[vocabSize];
        Arrays.fill(scores, -10000f);
        vocab.forEach((text, id) -> {
            if (id < vocabSize) {
                tokens[id] = text;
                scores[id] = derived[id];
                types[id] = (text.equals(unknownToken) ? TokenType.UNKNOWN
                        : BYTE_PIECE.matcher(text).matches() ? TokenType.BYTE : TokenType.NORMAL).id;
            }
        });
        JsonNode decoder = config.path("added_tokens_decoder");
        for (Map.Entry<String, JsonNode> entry : decoder.properties()) {
            int id = Integer.parseInt(entry.getKey());
            if (id >= vocabSize) {
                continue;
            }
            String token = entry.getValue().path("content").asText();
            if (entry.getValue().path("special").asBoolean(false) || looksSpecial(token)) {
                types[id] = TokenType.CONTROL.id;
            } else {
                token = token.replace(Tokenizer.SPACE, ' ');
                types[id] = TokenType.USER_DEFINED.id;
            }
            scores[id] = -1000f;
            tokens[id] = token;
        }
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put(Vocabulary.MODEL, GgufValue.string("llama"));
        metadata.put(Vocabulary.PRE, GgufValue.string("default"));
        metadata.put(Vocabulary.TOKENS, GgufValue.strings(tokens));
        metadata.put(Vocabulary.SCORES, GgufValue.floats(scores));
        metadata.put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(types));
        addSpecialVocab(metadata, family, vocabSize);
        if (family.spacePrefix != null) {
            metadata.put(Vocabulary.ADD_SPACE_PREFIX, GgufValue.bool(family.spacePrefix));
        }
        return metadata;
    }

    /** gguf-py's SpecialVocab: special ids, add-BOS/EOS flags and the chat template. */
    private void addSpecialVocab(Map<String, GgufValue> metadata, TokenizerFamily family, Integer vocabSize)
            throws IOException {
        Map<String, String> contents = new HashMap<>();
        for (String type : SPECIAL_TYPES) {
            JsonNode entry = config.path(type + "_token");
            String content = entry.isTextual() ? entry.asText() : entry.path("content").isTextual() ? entry.path("content").asText() : null;
            if (content != null) {
                contents.put(type, content);
            }
        }
        Map<String, Boolean> adds = new LinkedHashMap<>();
        for (JsonNode processor : postProcessor == null ? List.<JsonNode>of()
                : postProcessor.has("processors") ? iterable(postProcessor.get("processors")) : List.of(postProcessor)) {
            if (!processor.path("type").asText().equals("TemplateProcessing")) {
                continue;
            }
            JsonNode single = processor.path("single");
            if (single.size() > 1) {
                String first = single.get(0).path("SpecialToken").path("id").asText(null);
                if (first != null) {
                    adds.put("bos", first.equals(contents.get("bos")) || first.equals(contents.get("cls")));
                }
                String last = single.get(single.size() - 1).path("SpecialToken").path("id").asText(null);
                if (last != null) {
                    if (!last.equals(contents.get("eos"))) {
                        throw new IOException("tokenizer.json's template ends with " + last + ", not EOS: not supported");
                    }
                    adds.put("eos", true);
                }
            }
        }
        Map<String, Integer> ids = new LinkedHashMap<>();
        for (String type : SPECIAL_TYPES) {
            if (config.path("add_" + type + "_token").isBoolean()) {
                adds.put(type, config.get("add_" + type + "_token").asBoolean());
            }
            String content = contents.get(type);
            added.stream().filter(token -> token.content().equals(content)).findFirst()
                    .filter(token -> vocabSize == null || token.id() < vocabSize)
                    .ifPresent(token -> ids.putIfAbsent(type, token.id()));
        }
        family.configIds.forEach(ids::putIfAbsent); // after tokenizer_config.json, as config.json is read
        ids.forEach((type, id) -> metadata.put(ID_KEYS.get(type), GgufValue.u32(id)));
        for (String type : List.of("bos", "eos")) {
            if (adds.containsKey(type)) {
                metadata.put(type.equals("bos") ? Vocabulary.ADD_BOS : Vocabulary.ADD_EOS, GgufValue.bool(adds.get(type)));
            }
        }
        if (config.path("chat_template").isTextual()) {
            metadata.put("tokenizer.chat_template", GgufValue.string(config.get("chat_template").asText()));
        }
    }

    private static List<JsonNode> iterable(JsonNode array) {
        List<JsonNode> nodes = new ArrayList<>();
        array.forEach(nodes::add);
        return nodes;
    }

    /** Reads the parts of tokenizer.json that the conversion needs, streaming: Gemma's is 33 MB. */
    private void readTokenizerJson(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + " is missing");
        }
        try (JsonParser p = new JsonFactory().setCodec(JSON).createParser(file.toFile())) {
            expect(p.nextToken(), JsonToken.START_OBJECT, file);
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "added_tokens" -> added.addAll(List.of(p.readValueAs(AddedToken[].class)));
                    case "post_processor" -> postProcessor = p.readValueAsTree();
                    case "model" -> readModel(p, file);
                    default -> p.skipChildren();
                }
            }
        }
    }

    private void readModel(JsonParser p, Path file) throws IOException {
        expect(p.currentToken(), JsonToken.START_OBJECT, file);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
                case "unk_token" -> unknownToken = p.currentToken() == JsonToken.VALUE_STRING ? p.getText() : null;
                case "vocab" -> {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String text = p.currentName();
                        p.nextToken();
                        vocab.put(text, p.getIntValue());
                    }
                }
                case "merges" -> {
                    expect(p.currentToken(), JsonToken.START_ARRAY, file);
                    while (p.nextToken() != JsonToken.END_ARRAY) {
                        if (p.currentToken() == JsonToken.VALUE_STRING) {
                            String line = p.getText();
                            int space = line.indexOf(' ');
                            if (space < 0) {
                                throw new IOException(file + ": merge '" + line + "' is not two parts");
                            }
                            mergeLines.add(line);
                            mergePairs.add(new String[] {line.substring(0, space), line.substring(space + 1)});
                        } else {
                            // [left, right], the format since transformers 4.45; gguf-py writes spaces in them as Ġ
                            String[] pair = p.readValueAs(String[].class);
                            mergePairs.add(pair);
                            mergeLines.add(pair[0].replace(' ', '\u0120') + " " + pair[1].replace(' ', '\u0120'));
                        }
                    }
                }
                default -> p.skipChildren();
            }
        }
    }

    private static void expect(JsonToken token, JsonToken expected, Path file) throws IOException {
        if (token != expected) {
            throw new IOException(file + ": expected " + expected + ", found " + token);
        }
    }
}
