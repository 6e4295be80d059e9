package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** What {@code synth} writes: each family's real tokenizer metadata, and the stand-in vocabularies. */
class SynthVocabularyTest {
    @TempDir
    Path dir;

    private Path write(SynthVocabulary vocabulary) throws Exception {
        GgufWriter writer = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
        vocabulary.writeTo(writer);
        Path file = dir.resolve("synth.gguf");
        writer.write(file);
        return file;
    }

    @Test
    void writesTinyLlamasTokenizerMetadata() throws Exception {
        try (GgufFile file = GgufFile.open(LlamaVocabFixture.writeGguf(dir))) {
            assertEquals("llama", file.getString("tokenizer.ggml.model", null));
            assertEquals(1, file.getLong("tokenizer.ggml.bos_token_id", -1));
            assertEquals(2, file.getLong("tokenizer.ggml.eos_token_id", -1));
            assertEquals(0, file.getLong("tokenizer.ggml.unknown_token_id", -1));
            assertEquals(Boolean.TRUE, file.get("tokenizer.ggml.add_bos_token").value());
            assertEquals(Boolean.FALSE, file.get("tokenizer.ggml.add_eos_token").value());
            assertTrue(file.getString("tokenizer.chat_template", "").contains("'<|user|>\n' + message['content'] + eos_token"));
            String[] tokens = (String[]) file.get("tokenizer.ggml.tokens").value();
            int[] types = (int[]) file.get("tokenizer.ggml.token_type").value();
            float[] scores = (float[]) file.get("tokenizer.ggml.scores").value();
            assertEquals(32000, tokens.length);
            assertEquals(32000, scores.length);
            // Llama-2's layout: unknown, two control tokens, 256 bytes, then normal pieces
            assertArrayEquals(new int[] {2, 3, 3, 6}, Arrays.copyOf(types, 4));
            assertEquals("<0xFF>", tokens[258]);
            assertTrue(Arrays.stream(types, 3, 259).allMatch(t -> t == 6));
            assertTrue(Arrays.stream(types, 259, 32000).allMatch(t -> t == 1));
            // merges by rank: "▁t" (the first merge of Hugging Face's list) outranks "er", which outranks "▁the"
            assertTrue(scores[260] > scores[261] && scores[261] > scores[278], tokens[260] + tokens[261] + tokens[278]);
        }
    }

    @Test
    void loadFindsThePackageUnderTinyedgeHome() {
        LlamaVocabFixture.packageDir();
        assertTrue(SynthVocabulary.load().description().startsWith("Llama-2 (32000 tokens) from "));
    }

    @Test
    void loadFallsBackToTheGeneratedVocabulary() {
        assumeTrue(System.getenv(SynthVocabulary.LOCATION_KEY) == null, "TINYEDGE_LLAMA_VOCAB is set");
        String home = System.getProperty("tinyedge.home");
        System.setProperty("tinyedge.home", dir.toString());
        try {
            // surefire's working directory is the module folder, which has no tests/node
            assertTrue(SynthVocabulary.load().description().startsWith("generated"));
        } finally {
            restore("tinyedge.home", home);
        }
    }

    @Test
    void anExplicitLocationMustHoldThePackage() {
        String explicit = System.getProperty(SynthVocabulary.LOCATION_KEY);
        System.setProperty(SynthVocabulary.LOCATION_KEY, dir.toString());
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, SynthVocabulary::load);
            assertTrue(e.getMessage().startsWith("TINYEDGE_LLAMA_VOCAB=" + dir), e.getMessage());
        } finally {
            restore(SynthVocabulary.LOCATION_KEY, explicit);
        }
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    @Test
    void theGeneratedVocabularyIsReachableByMerges() throws Exception {
        Tokenizer t;
        try (GgufFile file = GgufFile.open(write(SynthVocabulary.generated()))) {
            t = Tokenizer.fromGguf(file);
        }
        assertEquals(32000, t.vocabSize());
        Set<String> seen = new HashSet<>();
        for (int id = 259; id < t.vocabSize(); id++) {
            String piece = t.piece(id);
            assertTrue(seen.add(piece), "duplicate " + piece);
            if (piece.codePointCount(0, piece.length()) > 1) {
                boolean madeOfEarlierPieces = false;
                for (int cut = 1; cut < piece.length() && !madeOfEarlierPieces; cut++) {
                    madeOfEarlierPieces = seen.contains(piece.substring(0, cut)) && seen.contains(piece.substring(cut));
                }
                assertTrue(madeOfEarlierPieces, piece);
            }
        }
        int[] english = t.encode("hello world, this is a test", false, false);
        assertTrue(english.length < 15, Arrays.toString(english));
        assertTrue(Arrays.stream(english).allMatch(id -> id >= 259), "no byte fallback for ASCII letters");
        String mixed = "Grüße 🦙 中文\n\tdone";
        assertEquals(mixed, t.decode(t.encode(mixed, false, false)));
    }

    private Tokenizer load(SynthVocabulary vocabulary) throws Exception {
        try (GgufFile file = GgufFile.open(write(vocabulary))) {
            return Tokenizer.fromGguf(file);
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "qwen3  | 151936 | 9707,1879,0",
            "qwen2  | 151936 | 9707,1879,0",
            "llama3 | 128256 | 128000,9906,1917,0",
            "gemma3 | 262144 | 2,9259,1902,236888"})
    void realFamiliesTokenizeAsTheirModels(String family, int size, String helloWorld) throws Exception {
        LlamaVocabFixture.packageDir(); // sets tinyedge.home to the repository root
        SynthVocabulary vocabulary = SynthVocabulary.forFamily(family, size);
        assertTrue(vocabulary.description().startsWith(family + " (" + size + " tokens) from "), vocabulary.description());
        Tokenizer t = load(vocabulary);
        assertEquals(size, t.vocabSize());
        // the ids llama.cpp gives for "Hello world!" with these tokenizers
        int[] expected = Arrays.stream(helloWorld.split(",")).mapToInt(Integer::parseInt).toArray();
        assertArrayEquals(expected, t.encode("Hello world!", true, false));
        if (family.startsWith("qwen")) {
            // Qwen's tokenizer has 151669 tokens: unused padding up to the model's size, as the converter pads
            assertEquals("[PAD151935]", t.piece(size - 1));
            assertFalse(t.isControl(size - 1) || t.isEndOfGeneration(size - 1));
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"qwen2, 151936, <|im_end|>", "qwen3, 151936, <|im_end|>", "llama3, 128256, <|eot_id|>", "gemma3, 262144, <end_of_turn>"})
    void standInsAreOfTheFamilysKind(String family, int size, String endOfTurn) throws Exception {
        String home = System.getProperty("tinyedge.home");
        System.setProperty("tinyedge.home", dir.toString());
        SynthVocabulary vocabulary;
        try {
            // surefire's working directory is the module folder, which has no tests/node
            vocabulary = SynthVocabulary.forFamily(family, size);
        } finally {
            restore("tinyedge.home", home);
        }
        assertTrue(vocabulary.description().startsWith("generated"), vocabulary.description());
        Tokenizer t = load(vocabulary);
        assertEquals(size, t.vocabSize());
        assertEquals(family.equals("gemma3"), t instanceof SpmTokenizer);
        String mixed = "Grüße 🦙 中文\n\tdone, the quick brown fox";
        assertEquals(mixed, t.decode(t.encode(mixed, false, false)));
        int[] english = t.encode("hello world, this is a test", false, false);
        assertTrue(english.length < 15, Arrays.toString(english));
        int end = java.util.stream.IntStream.range(0, size).filter(id -> t.piece(id).equals(endOfTurn)).findFirst().orElseThrow();
        assertTrue(t.isControl(end) && t.isEndOfGeneration(end), endOfTurn);
        assertTrue(t.isEndOfGeneration(t.eos()));
    }

    @Test
    void unknownFamiliesAndSizesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SynthVocabulary.forFamily("phi3", 32000));
        assertEquals("no tokenizer for the model family 'phi3' (known: llama, qwen2, qwen3, llama3, gemma3)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SynthVocabulary.forFamily("llama", 128256));
    }
}
