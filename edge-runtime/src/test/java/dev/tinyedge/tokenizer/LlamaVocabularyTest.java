package dev.tinyedge.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.GgufFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The synth vocabulary (the real Llama-2 one with derived scores) written to a GGUF file and read back,
 * against ids known from Llama-2/TinyLlama and against llama-tokenizer-js's own encoder.
 */
class LlamaVocabularyTest {
    /** Spaces, tabs, newlines, digits, punctuation, accents, CJK, emoji and special-looking text. */
    static final List<String> SENTENCES = List.of(
            "Hello world!",
            "Where is the train station?",
            "x",
            "     ",
            "  two leading, two trailing  ",
            "tabs\tand\nnewlines\r\nand\n\n\nblank lines",
            "Numbers: 0 7 42 1234567890, 3.14159, -17%, 1,000,000 and 2024-05-01",
            "Punctuation!?.,;:'\"()[]{}<>@#$%^&*_+=|\\/~` -- ... ?!",
            "Café naïve façade résumé — “quotes” ‘single’ ¿Dónde está la estación de tren?",
            "Übergrößenträger an der Straße, œuvre, Ærø, Łódź, İstanbul",
            "中文分词测试，日本語のテキスト、한국어 문장입니다.",
            "こんにちは世界",
            "Ελληνικά και русский текст, עברית, العربية, हिन्दी",
            "Emoji 🦙🚀👍🏽 and a family 👨‍👩‍👧 and flags 🇪🇸",
            "</s> looks special but is text, and so are <s> and <unk>",
            "<|system|>\nYou translate.</s>\n<|user|>\nTranslate to Spanish: Good morning</s>\n<|assistant|>\n",
            "<0x41> is not a byte here",
            "▁already escaped▁spaces",
            "def f(x):\n    return x ** 2  # four-space indent\n",
            "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX! the-quick_brown.fox");

    @TempDir
    static Path dir;
    static Tokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        try (GgufFile file = GgufFile.open(LlamaVocabFixture.writeGguf(dir))) {
            tokenizer = Tokenizer.fromGguf(file);
        }
    }

    @Test
    void knownLlamaIds() {
        assertArrayEquals(new int[] {1, 15043, 3186, 29991}, tokenizer.encode("Hello world!", true, false));
        assertArrayEquals(new int[] {539}, tokenizer.encode("     ", false, false));
        assertArrayEquals(new int[] {29871, 30589, 30389, 30353, 30644, 30449, 30793, 30967},
                tokenizer.encode("こんにちは世界", false, false));
        assertEquals(32000, tokenizer.vocabSize());
        assertEquals(1, tokenizer.bos());
        assertEquals(2, tokenizer.eos());
    }

    @Test
    void specialLookingTextStaysText() {
        // "</s>" after text: "</" "s" ">"; at the start it gets the leading space: "▁</" "s" ">"
        assertArrayEquals(new int[] {6324, 829, 29879, 29958}, tokenizer.encode("Hi</s>", false, false));
        assertArrayEquals(new int[] {1533, 29879, 29958}, tokenizer.encode("</s>", false, false));
        assertArrayEquals(new int[] {1, 6324, 2}, tokenizer.encode("Hi</s>", true, true));
    }

    @Test
    void matchesLlamaTokenizerJs() throws Exception {
        List<String> texts = new ArrayList<>(SENTENCES);
        // runs of spaces: Llama-2 scores all ▁-run pieces alike, so here the order of ties decides
        for (int n = 1; n <= 40; n++) {
            texts.add(" ".repeat(n));
            texts.add("a" + " ".repeat(n) + "b");
            texts.add("\n" + " ".repeat(n) + "x");
        }
        List<int[]> expected = llamaTokenizerJs(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(expected.get(i), tokenizer.encode(texts.get(i), true, false), texts.get(i));
        }
    }

    /** The sentences whose text survives a round trip: an input ▁ is a space to SentencePiece. */
    static List<String> roundTripping() {
        return SENTENCES.stream().filter(text -> text.indexOf(Tokenizer.SPACE) < 0).toList();
    }

    @Test
    void decodeInvertsEncode() {
        for (String text : roundTripping()) {
            assertEquals(text, tokenizer.decode(tokenizer.encode(text, false, false)), text);
        }
    }

    @Test
    void streamingGivesTheDecodedTextInWholeCharacters() {
        for (String text : roundTripping()) {
            int[] tokens = tokenizer.encode(text, true, false);
            Utf8StreamDecoder stream = tokenizer.streamDecoder();
            StringBuilder streamed = new StringBuilder();
            for (int token : tokens) {
                String piece = stream.feed(token);
                assertFalse(piece.contains("\uFFFD"), text);
                assertFalse(!piece.isEmpty() && Character.isHighSurrogate(piece.charAt(piece.length() - 1)), text);
                streamed.append(piece);
            }
            streamed.append(stream.flush());
            // BOS first: llama.cpp keeps the leading space in both cases
            assertEquals(tokenizer.decode(tokens), streamed.toString(), text);
            assertEquals(" " + text, streamed.toString());
        }
    }

    @Test
    void longInputsAreFast() {
        String all = String.join(" ", roundTripping()).repeat(8);
        String text = all.substring(0, all.offsetByCodePoints(0, 4096));
        long start = System.nanoTime();
        int[] ids = tokenizer.encode(text, true, false);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(text, tokenizer.decode(Arrays.copyOfRange(ids, 1, ids.length)));
        assertTrue(millis < 2000, "4096 characters took " + millis + " ms");
    }

    /** Runs tests/node/ltjs-encode.mjs on the texts (BOS and leading space added). */
    static List<int[]> llamaTokenizerJs(List<String> texts) throws IOException, InterruptedException {
        Path root = LlamaVocabFixture.repoRoot();
        Process node = new ProcessBuilder("node", "tests/node/ltjs-encode.mjs")
                .directory(root.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        ObjectMapper json = new ObjectMapper();
        try (OutputStream in = node.getOutputStream()) {
            in.write(json.writeValueAsBytes(texts));
        }
        String out = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(node.waitFor(60, TimeUnit.SECONDS), "node did not finish");
        assertEquals(0, node.exitValue(), "node tests/node/ltjs-encode.mjs failed (is llama-tokenizer-js installed in tests/node?)");
        return List.of(json.readValue(out, int[][].class));
    }
}
