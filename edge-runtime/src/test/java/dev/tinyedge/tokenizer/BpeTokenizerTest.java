package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rules of llama.cpp's byte-level BPE session, on small handcrafted vocabularies with known merges. */
class BpeTokenizerTest {
    @TempDir
    Path dir;

    private static TestBpeVocab qwen() {
        return new TestBpeVocab("qwen2");
    }

    @Test
    void lowerRanksMergeFirst() throws Exception {
        TestBpeVocab v = qwen().merge("a", "b").merge("b", "c");
        assertArrayEquals(v.ids("ab", "c"), v.load(dir).encode("abc", false, false));
        TestBpeVocab swapped = qwen().merge("b", "c").merge("a", "b");
        assertArrayEquals(swapped.ids("a", "bc"), swapped.load(dir).encode("abc", false, false));
    }

    @Test
    void tiesGoToTheLeftmostPair() throws Exception {
        TestBpeVocab v = qwen().merge("a", "a");
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("aa", "a"), t.encode("aaa", false, false));
        assertArrayEquals(v.ids("aa", "aa", "a"), t.encode("aaaaa", false, false));
    }

    @Test
    void matchesTheTextbookMergeLoopOnRandomWords() throws Exception {
        Random random = new Random(7);
        TestBpeVocab v = qwen();
        List<String> pieces = new ArrayList<>(List.of("a", "b", "c"));
        Map<String, Integer> ranks = new HashMap<>();
        while (ranks.size() < 30) {
            String left = pieces.get(random.nextInt(pieces.size()));
            String right = pieces.get(random.nextInt(pieces.size()));
            if ((left + right).length() <= 5 && ranks.putIfAbsent(left + " " + right, ranks.size()) == null) {
                v.merge(left, right);
                if (!pieces.contains(left + right)) {
                    pieces.add(left + right);
                }
            }
        }
        Tokenizer t = v.load(dir);
        for (int i = 0; i < 500; i++) {
            StringBuilder word = new StringBuilder();
            for (int n = 1 + random.nextInt(20); n > 0; n--) {
                word.append("abc".charAt(random.nextInt(3)));
            }
            List<String> expected = naiveMerge(word.toString(), ranks);
            int[] ids = expected.stream().mapToInt(v::id).toArray();
            assertArrayEquals(ids, t.encode(word.toString(), false, false), "word " + word + " -> " + expected);
        }
    }

    /** The definition, O(n²): merge the adjacent pair of lowest rank (leftmost first) until none is left. */
    private static List<String> naiveMerge(String word, Map<String, Integer> ranks) {
        List<String> symbols = new ArrayList<>(word.chars().mapToObj(Character::toString).toList());
        while (true) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer rank = ranks.get(symbols.get(i) + " " + symbols.get(i + 1));
                if (rank != null && rank < bestRank) {
                    best = i;
                    bestRank = rank;
                }
            }
            if (best < 0) {
                return symbols;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
    }

    @Test
    void mergesStayInsideWords() throws Exception {
        TestBpeVocab v = qwen().merge("b", " ").merge(" ", "a");
        assertArrayEquals(v.ids("b", " a"), v.load(dir).encode("b a", false, false));
    }

    @Test
    void llama3TakesAWordThatIsATokenWhole() throws Exception {
        // no merge makes "abc", but Llama 3's word is looked up first ("ignore_merges")
        TestBpeVocab llama3 = new TestBpeVocab("llama-bpe").merge("a", "b").token(TestBpeVocab.spell("abc"), TokenType.NORMAL)
                .set(Vocabulary.ADD_BOS, GgufValue.bool(false));
        assertArrayEquals(llama3.ids("abc"), llama3.load(dir).encode("abc", false, false));
        TestBpeVocab qwen = qwen().merge("a", "b").token(TestBpeVocab.spell("abc"), TokenType.NORMAL);
        assertArrayEquals(qwen.ids("ab", "c"), qwen.load(dir).encode("abc", false, false));
    }

    @Test
    void bytesAreSpelledInGpt2CharactersAndDecodedBack() throws Exception {
        TestBpeVocab v = qwen().merge(" ", "a");
        Tokenizer t = v.load(dir);
        // é is C3 A9: the tokens spelled Ã and ©; a newline is Ċ, a space Ġ
        assertArrayEquals(new int[] {0xC3, 0xA9, '\n'}, t.encode("é\n", false, false));
        assertEquals("Ġa", t.piece(v.id(" a")));
        for (String text : List.of("a b", "  ab  a\n\n", "aé\n🦙 b\u0000\u00ff", "Привет, мир! 你好 ١٢٣ \t x", "")) {
            assertEquals(text, t.decode(t.encode(text, false, false)), text);
        }
    }

    @Test
    void streamingHoldsBackSplitCharacters() throws Exception {
        TestBpeVocab v = qwen();
        Tokenizer t = v.load(dir);
        Utf8StreamDecoder stream = t.streamDecoder();
        StringBuilder text = new StringBuilder();
        for (int token : t.encode("a🦙é", false, false)) {
            String piece = stream.feed(token);
            assertFalse(piece.contains("\uFFFD"), "a piece of a character was handed out");
            text.append(piece);
        }
        assertEquals("a🦙é", text + stream.flush());
    }

    @Test
    void bosFollowsThePreTokenizerUnlessTheFileSays() throws Exception {
        TestBpeVocab llama3 = new TestBpeVocab("llama-bpe").token("<|begin_of_text|>", TokenType.CONTROL);
        int bos = llama3.id("<|begin_of_text|>");
        llama3.set(Vocabulary.BOS_ID, GgufValue.u32(bos));
        // Llama 3 adds BOS even when add_bos_token is absent, as llama.cpp does for llama-bpe
        assertArrayEquals(new int[] {bos, 'a'}, llama3.load(dir).encode("a", true, false));
        assertArrayEquals(new int[] {'a'}, llama3.set(Vocabulary.ADD_BOS, GgufValue.bool(false)).load(dir).encode("a", true, false));
        assertArrayEquals(new int[] {'a'}, qwen().load(dir).encode("a", true, false));
        // with no ids in the file, BOS and EOS are token 11, GPT-2's, as in llama.cpp
        Tokenizer t = qwen().load(dir);
        assertEquals(11, t.bos());
        assertEquals(11, t.eos());
    }

    @Test
    void controlTokensAreSplitOutOnlyWhenParsingSpecials() throws Exception {
        TestBpeVocab v = qwen().token("<|im_start|>", TokenType.CONTROL).token("<tool>", TokenType.USER_DEFINED);
        Tokenizer t = v.load(dir);
        int start = v.id("<|im_start|>");
        int tool = v.id("<tool>");
        assertArrayEquals(new int[] {'a', start, 'b'}, t.encode("a<|im_start|>b", false, true));
        int[] plain = t.encode("a<|im_start|>b", false, false);
        assertFalse(java.util.Arrays.stream(plain).anyMatch(id -> id == start));
        assertEquals("a<|im_start|>b", t.decode(plain));
        // user-defined tokens are split out either way, and render as text
        assertArrayEquals(new int[] {'a', tool, 'b'}, t.encode("a<tool>b", false, false));
        assertEquals("a<tool>b", t.decode(new int[] {'a', tool, 'b'}));
        assertEquals("ab", t.decode(new int[] {'a', start, 'b'}));
    }

    @Test
    void endOfGenerationTokensAreTheOnesLlamaCppMarks() throws Exception {
        TestBpeVocab v = qwen()
                .token("<|endoftext|>", TokenType.CONTROL)
                .token("<|im_end|>", TokenType.NORMAL) // a converter that wrote it as text
                .token("</s>", TokenType.NORMAL)
                .token("<|fim_pad|>", TokenType.USER_DEFINED)
                .token("<|im_start|>", TokenType.CONTROL)
                .token("<|channel|>", TokenType.CONTROL)
                .token("<eot>", TokenType.CONTROL);
        Tokenizer t = v.set(Vocabulary.EOS_ID, GgufValue.u32(v.id("<|endoftext|>")))
                .set(Vocabulary.EOT_ID, GgufValue.u32(v.id("<eot>"))).load(dir);
        for (String end : List.of("<|endoftext|>", "<|im_end|>", "</s>", "<|fim_pad|>", "<eot>")) {
            assertTrue(t.isEndOfGeneration(v.id(end)), end);
            assertTrue(t.isControl(v.id(end)), end + " becomes a control token");
        }
        for (String other : List.of("<|im_start|>", "<|channel|>", "a")) {
            assertFalse(t.isEndOfGeneration(v.id(other)), other);
        }
        assertFalse(t.isControl(v.id("<|channel|>")), "gpt-oss's channel markers are rendered as text");
        // a control token is plain text unless specials are parsed
        assertEquals("x</s>y", t.decode(t.encode("x</s>y", false, false)));
        assertArrayEquals(new int[] {'x', v.id("</s>"), 'y'}, t.encode("x</s>y", false, true));
    }

    @Test
    void metadataProblemsAreOneLine() throws Exception {
        assertFormatError(qwen().set(Vocabulary.MERGES, null), "metadata key 'tokenizer.ggml.merges' is missing");
        assertFormatError(qwen().set(Vocabulary.MERGES, GgufValue.u32(1)), "tokenizer.ggml.merges is a UINT32");
        assertFormatError(qwen().merge("a", "b").mergeLine("a zz"), "tokenizer.ggml.merges entry 1 'a zz' names 'zz', which is not a token");
        assertFormatError(qwen().mergeLine("ab"), "tokenizer.ggml.merges entry 0 'ab' is not two tokens separated by a space");
        assertFormatError(qwen().set(Vocabulary.PRE, GgufValue.string("tekken")),
                "tokenizer.ggml.pre is 'tekken': tinyedge splits text as llama.cpp does for deepseek-r1-qwen, gpt-2, llama-bpe");
        assertFormatError(qwen().set(Vocabulary.PRE, null), "metadata key 'tokenizer.ggml.pre' is missing");
        assertFormatError(qwen().set(Vocabulary.TOKENS, null), "metadata key 'tokenizer.ggml.tokens' is missing");
        assertFormatError(qwen().set(Vocabulary.EOS_ID, GgufValue.u32(100000)), "tokenizer.ggml.eos_token_id is 100000");
        assertFormatError(qwen().set(Vocabulary.EOT_ID, GgufValue.u32(100000)), "tokenizer.ggml.eot_token_id is 100000");
        assertFormatError(qwen().set(Vocabulary.ADD_BOS, GgufValue.bool(true)).set(Vocabulary.TOKENS,
                GgufValue.strings(new String[] {"a", "b"})).set(Vocabulary.TOKEN_TYPE, null).set(Vocabulary.MERGES,
                GgufValue.strings(new String[0])), "asks for a BOS token, but the vocabulary has none");
    }

    private void assertFormatError(TestBpeVocab v, String expected) throws Exception {
        Path file = v.write(dir);
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> Tokenizer.fromGguf(gguf));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    @Test
    void hostileInputsTakeLinearishTime() throws Exception {
        TestBpeVocab v = new TestBpeVocab("llama-bpe").merge("a", "a").merge("aa", "aa").merge(" ", " ").merge("1", "1");
        Tokenizer t = v.load(dir);
        Random random = new Random(3);
        StringBuilder noise = new StringBuilder();
        for (int i = 0; i < 1 << 14; i++) {
            noise.appendCodePoint(random.nextInt(0x30000)); // surrogates included: they become U+FFFD
        }
        List<String> texts = List.of("a".repeat(1 << 16), " ".repeat(1 << 16), "1".repeat(1 << 16),
                "\n".repeat(1 << 16), "a\u0301".repeat(1 << 15), noise.toString());
        // a quadratic merge or split needs minutes for these; this one needs milliseconds
        assertTimeoutPreemptively(Duration.ofSeconds(20), () -> {
            for (String text : texts) {
                int[] ids = t.encode(text, false, false);
                assertTrue(ids.length > 0);
            }
            assertEquals(texts.get(0), t.decode(t.encode(texts.get(0), false, false)));
        });
    }
}
