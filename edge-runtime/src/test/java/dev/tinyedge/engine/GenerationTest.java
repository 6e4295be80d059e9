package dev.tinyedge.engine;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.Tokenizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One generation's steps, fed logits that make the sampler pick chosen tokens: where it ends, what it reports. */
class GenerationTest {
    @TempDir
    static Path dir;
    static Tokenizer tokenizer;
    static int hello;
    static int world;
    /** The two byte tokens of é (C3 A9). */
    static int c3;
    static int a9;

    @BeforeAll
    static void load() throws Exception {
        Path model = TestModels.writeWithVocabulary(dir, SyntheticModel.TINY, GgmlType.F32, 1);
        try (GgufFile file = GgufFile.open(model)) {
            tokenizer = Tokenizer.fromGguf(file);
        }
        int[] words = tokenizer.encode("Hello world", false, false);
        hello = words[0];
        world = words[words.length - 1];
        c3 = piece("<0xC3>");
        a9 = piece("<0xA9>");
        assertTrue(tokenizer.isControl(tokenizer.bos()) && tokenizer.bos() != tokenizer.eos());
    }

    private static int piece(String piece) {
        return IntStream.range(0, tokenizer.vocabSize()).filter(id -> tokenizer.piece(id).equals(piece)).findFirst()
                .orElseThrow();
    }

    private static String text(int token) {
        return tokenizer.streamDecoder().feed(token);
    }

    /** Logits whose greedy choice is {@code token}. */
    private static float[] pick(int token) {
        float[] logits = new float[tokenizer.vocabSize()];
        logits[token] = 1;
        return logits;
    }

    private record Run(List<Integer> evaluated, List<String> texts, Generation.Result result) {
    }

    /** Feeds the picks one by one while the generation asks for more. */
    private static Run run(Generation.EndTokens ends, int maxTokens, int room, int stopAtText, int... picks) {
        List<String> texts = new ArrayList<>();
        Generation generation = new Generation(tokenizer, new Generation.Settings(Sampler.greedy(), maxTokens, ends),
                text -> {
                    texts.add(text);
                    return texts.size() != stopAtText;
                }, room);
        List<Integer> evaluated = new ArrayList<>();
        for (int pick : picks) {
            int next = generation.next(pick(pick));
            if (next < 0) {
                break;
            }
            evaluated.add(next);
        }
        return new Run(evaluated, texts, generation.result(3, 3, 0, evaluated.size(), 0));
    }

    @Test
    void endOfGenerationEndsAtEosButOutputsOtherControlTokens() {
        Run run = run(Generation.EndTokens.END_OF_GENERATION, 10, 10, -1, hello, tokenizer.bos(), world, tokenizer.eos());
        assertArrayEquals(new int[] {hello, tokenizer.bos(), world}, run.result().tokens());
        assertEquals(List.of(hello, tokenizer.bos(), world), run.evaluated());
        assertEquals(Generation.StopReason.END_OF_GENERATION, run.result().stopReason());
        assertEquals(List.of(text(hello), "", text(world)), run.texts(), "a control token has no text");
    }

    @Test
    void endOfTurnEndsAtAnyControlToken() {
        Run run = run(Generation.EndTokens.END_OF_TURN, 10, 10, -1, hello, tokenizer.bos(), world);
        assertArrayEquals(new int[] {hello}, run.result().tokens());
        assertEquals(Generation.StopReason.END_OF_GENERATION, run.result().stopReason());
    }

    @Test
    void noEndTokensForABenchmark() {
        Run run = run(Generation.EndTokens.NONE, 3, 10, -1, tokenizer.eos(), tokenizer.eos(), tokenizer.eos(), hello);
        assertArrayEquals(new int[] {tokenizer.eos(), tokenizer.eos(), tokenizer.eos()}, run.result().tokens());
        assertEquals(2, run.evaluated().size(), "the last token within the budget is not evaluated");
        assertEquals(Generation.StopReason.TOKEN_LIMIT, run.result().stopReason());
    }

    @Test
    void roomInTheContextBoundsTheTokens() {
        Run run = run(Generation.EndTokens.NONE, 10, 2, -1, hello, world, hello);
        assertArrayEquals(new int[] {hello, world}, run.result().tokens());
        assertEquals(List.of(hello), run.evaluated());
        assertEquals(Generation.StopReason.CONTEXT_FULL, run.result().stopReason());
    }

    @Test
    void holdsASplitCharacterBackAndFlushesWhatIsLeftAtTheEnd() {
        Run whole = run(Generation.EndTokens.END_OF_GENERATION, 10, 10, -1, c3, a9, tokenizer.eos());
        assertEquals(List.of("", "é"), whole.texts());

        Run cut = run(Generation.EndTokens.END_OF_GENERATION, 2, 10, -1, a9, c3);
        assertEquals(List.of("\uFFFD", "", "\uFFFD"), cut.texts(), "an incomplete character ends as U+FFFD");
    }

    @Test
    void aListenerThatSaysStopGetsNothingMore() {
        Run run = run(Generation.EndTokens.END_OF_GENERATION, 10, 10, 2, hello, c3, world);
        assertArrayEquals(new int[] {hello, c3}, run.result().tokens());
        assertEquals(List.of(hello), run.evaluated());
        assertEquals(Generation.StopReason.STOP_TEXT, run.result().stopReason());
        assertEquals(2, run.texts().size(), "the held-back byte is not flushed");
    }
}
