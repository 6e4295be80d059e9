package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The SentencePiece rules of llama.cpp's SPM tokenizer, on small handcrafted vocabularies with known scores. */
class TokenizerTest {
    private static final GgufValue NO = GgufValue.bool(false);

    @TempDir
    Path dir;

    /** A vocabulary without the leading space, so the merges are seen on the bare text. */
    private static TestVocab bare() {
        return new TestVocab().set(Vocabulary.ADD_SPACE_PREFIX, NO);
    }

    private static int[] encode(Tokenizer t, String text) {
        return t.encode(text, false, false);
    }

    @Test
    void higherScoreMergesFirst() throws Exception {
        TestVocab v = bare().chars("abc").piece("ab", -2).piece("bc", -1);
        assertArrayEquals(v.ids("a", "bc"), encode(v.load(dir), "abc"));

        TestVocab swapped = bare().chars("abc").piece("ab", -1).piece("bc", -2);
        assertArrayEquals(swapped.ids("ab", "c"), encode(swapped.load(dir), "abc"));
    }

    @Test
    void tiesGoToTheLeftmostPair() throws Exception {
        TestVocab v = bare().chars("abc").piece("aa", -1).piece("ab", -3).piece("bc", -3);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("aa", "a"), encode(t, "aaa"));
        assertArrayEquals(v.ids("aa", "aa", "a"), encode(t, "aaaaa"));
        assertArrayEquals(v.ids("ab", "c"), encode(t, "abc"));
    }

    @Test
    void piecesAreReachedOnlyThroughPiecesOfTheVocabulary() throws Exception {
        TestVocab v = bare().chars("abcd").piece("ab", -1).piece("abc", -2).piece("bcd", -3);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("abc"), encode(t, "abc"));
        // "bcd" is a piece, but no pair of pieces makes it, so SentencePiece never produces it
        assertArrayEquals(v.ids("abc", "d"), encode(t, "abcd"));
        assertArrayEquals(v.ids("b", "c", "d"), encode(t, "bcd"));
    }

    @Test
    void matchesTheTextbookMergeLoopOnRandomTexts() throws Exception {
        Random random = new Random(42);
        String alphabet = "ab▁c";
        TestVocab v = bare().chars(alphabet);
        Map<String, Float> scores = new HashMap<>();
        for (int length = 2; length <= 4; length++) {
            for (String piece : allStrings(alphabet, length)) {
                if (random.nextInt(10) < 4) {
                    float score = -random.nextInt(6); // few distinct scores, so ties are common
                    v.piece(piece, score);
                    scores.put(piece, score);
                }
            }
        }
        Tokenizer t = v.load(dir);
        for (int i = 0; i < 500; i++) {
            StringBuilder text = new StringBuilder();
            for (int n = random.nextInt(30); n > 0; n--) {
                text.append("ab c".charAt(random.nextInt(4)));
            }
            List<String> expected = naiveMerge(text.toString().replace(' ', '▁'), scores);
            int[] ids = expected.stream().mapToInt(v::id).toArray();
            assertArrayEquals(ids, encode(t, text.toString()), "text '" + text + "' -> " + expected);
        }
    }

    /** The definition, O(n²): merge the best adjacent pair (highest score, leftmost first) until none is left. */
    private static List<String> naiveMerge(String text, Map<String, Float> scores) {
        List<String> symbols = new ArrayList<>(text.codePoints().mapToObj(Character::toString).toList());
        while (true) {
            int best = -1;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Float score = scores.get(symbols.get(i) + symbols.get(i + 1));
                if (score != null && (best < 0 || score > scores.get(symbols.get(best) + symbols.get(best + 1)))) {
                    best = i;
                }
            }
            if (best < 0) {
                return symbols;
            }
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
    }

    private static List<String> allStrings(String alphabet, int length) {
        List<String> strings = List.of("");
        for (int i = 0; i < length; i++) {
            List<String> longer = new ArrayList<>();
            for (String s : strings) {
                alphabet.codePoints().forEach(c -> longer.add(s + Character.toString(c)));
            }
            strings = longer;
        }
        return strings;
    }

    @Test
    void charactersWithoutAPieceFallBackToTheirUtf8Bytes() throws Exception {
        TestVocab v = bare().chars("a");
        int[] expected = {v.id("a"), v.id("<0xC3>"), v.id("<0xA9>"),
                v.id("<0xF0>"), v.id("<0x9F>"), v.id("<0xA6>"), v.id("<0x99>")};
        assertArrayEquals(expected, encode(v.load(dir), "aé🦙"));
    }

    @Test
    void withoutByteTokensUnknownCharactersBecomeUnk() throws Exception {
        TestVocab v = new TestVocab(false).set(Vocabulary.ADD_SPACE_PREFIX, NO).chars("a");
        assertArrayEquals(new int[] {v.id("a"), 0, 0}, encode(v.load(dir), "aé"));
    }

    @Test
    void aSpaceIsPrependedAndSpacesBecomeLowerBlocks() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁").piece("▁a", -1).piece("▁b", -1);
        assertArrayEquals(v.ids("▁a", "▁b"), encode(v.load(dir), "a b"));
        TestVocab bare = bare().chars("ab▁").piece("▁a", -1).piece("▁b", -1);
        assertArrayEquals(bare.ids("a", "▁b"), encode(bare.load(dir), "a b"));
    }

    @Test
    void bosAndEosFollowTheModelsFlags() throws Exception {
        TestVocab v = new TestVocab().chars("a▁").piece("▁a", -1);
        Tokenizer t = v.load(dir);
        assertArrayEquals(new int[] {1, v.id("▁a")}, t.encode("a", true, false));
        assertArrayEquals(new int[] {v.id("▁a")}, t.encode("a", false, false));
        assertArrayEquals(new int[] {1}, t.encode("", true, false));
        assertArrayEquals(new int[0], t.encode("", false, false));

        Tokenizer noBos = v.set(Vocabulary.ADD_BOS, NO).set(Vocabulary.ADD_EOS, GgufValue.bool(true)).load(dir);
        assertArrayEquals(new int[] {v.id("▁a"), 2}, noBos.encode("a", true, false));
        assertArrayEquals(new int[] {v.id("▁a")}, noBos.encode("a", false, false));
    }

    @Test
    void controlTokensAreSplitOutOnlyWhenParsingSpecials() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁</s>kun").piece("▁a", -1).piece("▁b", -1);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("▁a", "<", "/", "s", ">", "b"), t.encode("a</s>b", false, false));
        // after a special token the text gets its leading space again, as in llama.cpp
        assertArrayEquals(new int[] {v.id("▁a"), 2, v.id("▁b")}, t.encode("a</s>b", false, true));
        assertArrayEquals(new int[] {1, 1, v.id("▁a"), 0}, t.encode("<s>a<unk>", true, true));
        assertArrayEquals(new int[] {2, 2}, t.encode("</s></s>", false, true));
    }

    @Test
    void userDefinedTokensAreAlwaysSplitOut() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁<|u>").piece("▁a", -1).piece("▁b", -1)
                .piece("<|u|>", 0, TokenType.USER_DEFINED);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("▁a", "<|u|>", "▁b"), t.encode("a<|u|>b", false, false));
    }

    @Test
    void theLongestSpecialTokenWins() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁<|>").piece("<|a|>", 0, TokenType.CONTROL)
                .piece("<|a|>b", 0, TokenType.CONTROL);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("<|a|>b", "<|a|>"), t.encode("<|a|>b<|a|>", false, true));
    }

    @Test
    void decodeDropsTheAddedSpaceAndRendersNoControlTokens() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁").piece("▁a", -1).piece("▁b", -1)
                .piece("<|u|>", 0, TokenType.USER_DEFINED);
        Tokenizer t = v.load(dir);
        assertEquals("a b", t.decode(v.ids("▁a", "▁b")));
        // llama_detokenize: a leading BOS takes the place of the dropped space, so the space stays
        assertEquals(" a b", t.decode(new int[] {1, v.id("▁a"), v.id("▁b")}));
        assertEquals("a b", t.decode(new int[] {v.id("▁a"), 2, 0, v.id("▁b")}));
        assertEquals("a<|u|> b", t.decode(v.ids("▁a", "<|u|>", "▁b")));
        assertEquals("é", t.decode(v.ids("<0xC3>", "<0xA9>")));
        assertEquals("a\uFFFDb", t.decode(v.ids("a", "<0xFF>", "b")));
        assertEquals("", t.decode(new int[0]));
    }

    @Test
    void decodeInvertsEncode() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁").piece("▁a", -1).piece("ab", -2).piece("▁▁", -3);
        Tokenizer t = v.load(dir);
        for (String text : List.of("a b", "  ab  a", "aé\n🦙 b", "b")) {
            assertEquals(text, t.decode(t.encode(text, false, false)), text);
        }
    }

    @Test
    void streamingHoldsBackSplitCharacters() throws Exception {
        TestVocab v = new TestVocab().chars("a▁").piece("▁a", -1);
        Tokenizer t = v.load(dir);
        Utf8StreamDecoder stream = t.streamDecoder();
        assertEquals("", stream.feed(1));
        assertEquals(" a", stream.feed(v.id("▁a")));
        // 世 = E4 B8 96
        assertEquals("", stream.feed(v.id("<0xE4>")));
        assertEquals("", stream.feed(v.id("<0xB8>")));
        assertEquals("世", stream.feed(v.id("<0x96>")));
        // 🦙 = F0 9F A6 99: a 4-byte character, two UTF-16 chars
        assertEquals("", stream.feed(v.id("<0xF0>")));
        assertEquals("", stream.feed(v.id("<0x9F>")));
        assertEquals("", stream.feed(v.id("<0xA6>")));
        assertEquals("", stream.feed(2));
        assertEquals("🦙", stream.feed(v.id("<0x99>")));
        assertEquals("a", stream.feed(v.id("a")));
        assertEquals("", stream.flush());
    }

    @Test
    void streamingReplacesBytesThatCannotFormACharacter() throws Exception {
        TestVocab v = new TestVocab().chars("a▁").piece("▁a", -1);
        Tokenizer t = v.load(dir);
        Utf8StreamDecoder stream = t.streamDecoder();
        assertEquals("\uFFFD", stream.feed(v.id("<0xFF>")));
        assertEquals("", stream.feed(v.id("<0xE4>")));
        assertEquals("\uFFFD a", stream.feed(v.id("▁a")));
        assertEquals("", stream.feed(v.id("<0xE4>")));
        assertEquals("", stream.feed(v.id("<0xB8>")));
        assertEquals("\uFFFD", stream.flush());
        // after a flush the decoder starts clean
        assertEquals("é", stream.feed(v.id("<0xC3>")) + stream.feed(v.id("<0xA9>")));
    }

    @Test
    void idsOutsideTheVocabularyAreRejected() throws Exception {
        Tokenizer t = new TestVocab().chars("a").load(dir);
        int size = t.vocabSize();
        assertThrows(IllegalArgumentException.class, () -> t.decode(new int[] {size}));
        assertThrows(IllegalArgumentException.class, () -> t.streamDecoder().feed(-1));
        assertThrows(IllegalArgumentException.class, () -> t.piece(size));
    }

    @Test
    void accessorsDescribeTheVocabulary() throws Exception {
        TestVocab v = new TestVocab().chars("a").set(Vocabulary.EOS_ID, GgufValue.u32(0));
        Tokenizer t = v.load(dir);
        assertEquals(1, t.bos());
        assertEquals(0, t.eos());
        assertEquals(256 + 3 + 1, t.vocabSize());
        assertEquals("<0x0A>", t.piece(3 + 10));
        assertTrue(t.isControl(1) && t.isControl(2));
        assertTrue(!t.isControl(0) && !t.isControl(v.id("a")));
    }

    @Test
    void longInputsTakeLinearishTime() throws Exception {
        TestVocab v = new TestVocab().chars("ab▁").piece("▁▁", -1).piece("aa", -2).piece("ab", -3)
                .piece("aaaa", -4).piece("▁a", -5);
        Tokenizer t = v.load(dir);
        String chars4k = "a b  aab ".repeat(456).substring(0, 4096);
        String runs = "a".repeat(1 << 16) + " ".repeat(1 << 16);
        // a quadratic merge loop needs minutes for the second text; this one needs milliseconds
        assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
            assertEquals(chars4k, t.decode(t.encode(chars4k, false, false)));
            int[] ids = t.encode(runs, false, false);
            assertEquals(runs, t.decode(ids));
        });
    }

    @Test
    void unpairedSurrogatesAreEncodedAsReplacementCharacters() throws Exception {
        // what llama.cpp receives for them from a UTF-8 encoder that replaces them, and makes of invalid UTF-8
        TestVocab v = bare().chars("a");
        assertArrayEquals(v.ids("a", "<0xEF>", "<0xBF>", "<0xBD>", "a"), encode(v.load(dir), "a\uD800a"));
    }

    @Test
    void metadataProblemsNameTheKey() throws Exception {
        assertFormatError(new TestVocab().set(Vocabulary.TOKENS, null), "tokenizer.ggml.tokens");
        assertFormatError(new TestVocab().set(Vocabulary.TOKENS, GgufValue.u32(3)), "tokenizer.ggml.tokens");
        assertFormatError(new TestVocab().set(Vocabulary.SCORES, GgufValue.floats(new float[5])), "tokenizer.ggml.scores has 5 entries for 259 tokens");
        assertFormatError(new TestVocab().set(Vocabulary.TOKEN_TYPE, GgufValue.i32s(new int[5])), "tokenizer.ggml.token_type has 5 entries");
        assertFormatError(new TestVocab().set(Vocabulary.BOS_ID, GgufValue.u32(259)), "tokenizer.ggml.bos_token_id is 259");
        assertFormatError(new TestVocab().set(Vocabulary.EOS_ID, GgufValue.string("2")), "tokenizer.ggml.eos_token_id");
        assertFormatError(new TestVocab().set(Vocabulary.MODEL, GgufValue.string("bert")), "tokenizer.ggml.model is 'bert'");
        assertFormatError(new TestVocab().set(Vocabulary.MODEL, GgufValue.u32(1)), "tokenizer.ggml.model is a UINT32");
        assertFormatError(new TestVocab().set(Vocabulary.MODEL, null), "tokenizer.ggml.model' is missing");
        assertFormatError(new TestVocab().set(Vocabulary.ADD_BOS, GgufValue.u32(1)), "tokenizer.ggml.add_bos_token");
        assertFormatError(new TestVocab().piece("<0xZZ>", 0, TokenType.BYTE), "'<0xZZ>' as a byte token");
        assertFormatError(new TestVocab().chars("aa"), "'a' twice");
    }

    @Test
    void scoresAndTypesAreOptional() throws Exception {
        TestVocab v = bare().chars("ab").piece("ab", -1).set(Vocabulary.SCORES, null).set(Vocabulary.TOKEN_TYPE, null);
        Tokenizer t = v.load(dir);
        assertArrayEquals(v.ids("ab"), encode(t, "ab"));
        // without types every token is normal text, "<s>" included
        assertEquals("<s>ab", t.decode(new int[] {1, v.id("ab")}));
    }

    private void assertFormatError(TestVocab v, String expected) throws Exception {
        Path file = v.write(dir);
        try (GgufFile gguf = GgufFile.open(file)) {
            GgufFormatException e = assertThrows(GgufFormatException.class, () -> Tokenizer.fromGguf(gguf));
            assertTrue(e.getMessage().contains(expected), e.getMessage());
        }
    }

    @Test
    void aLowerBlockInTheInputActsAsASpace() throws Exception {
        TestVocab v = bare().chars("▁a").piece("▁a", -1);
        assertArrayEquals(v.ids("▁a", "▁a"), encode(v.load(dir), "▁a a"));
    }
}
