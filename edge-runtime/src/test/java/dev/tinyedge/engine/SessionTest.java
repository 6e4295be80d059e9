package dev.tinyedge.engine;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.reference.ScalarForward;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.Tokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The generation loop on a tiny model: against the scalar reference, and against the loop it replaced. */
class SessionTest {
    private static final int CONTEXT = 100;

    @TempDir
    static Path dir;
    static Path modelPath;
    static Engine engine;
    /** A second copy of the model for {@link #oldLoop}, which evaluates outside any session. */
    static Engine reference;
    Session session;

    @BeforeAll
    static void load() throws Exception {
        modelPath = TestModels.writeWithVocabulary(dir, dev.tinyedge.model.SyntheticModel.TINY, GgmlType.Q8_0, 3);
        engine = Engine.load(modelPath, new EngineOptions(CONTEXT, 2, "cpu"));
        reference = Engine.load(modelPath, new EngineOptions(CONTEXT, 2, "cpu"));
    }

    @AfterAll
    static void close() {
        engine.close();
        reference.close();
    }

    @BeforeEach
    void open() {
        session = engine.openSession();
    }

    @AfterEach
    void release() {
        session.close();
    }

    private static Generation.Settings settings(Sampler sampler, int maxTokens) {
        return new Generation.Settings(sampler, maxTokens, Generation.EndTokens.END_OF_GENERATION);
    }

    /** Greedy tokens from the plain scalar reference. */
    private static int[] scalarGreedy(int[] prompt, int n) throws Exception {
        try (GgufFile file = GgufFile.open(modelPath)) {
            ScalarForward scalar = new ScalarForward(ModelWeights.load(file), CONTEXT);
            float[] logits = null;
            for (int pos = 0; pos < prompt.length; pos++) {
                logits = scalar.forward(prompt[pos], pos);
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                out[i] = Sampler.argmax(logits, logits.length);
                logits = scalar.forward(out[i], prompt.length + i);
            }
            return out;
        }
    }

    private record Old(int[] tokens, String stopReason) {
    }

    /**
     * The loop that {@code engine.Generator} ran before the session replaced it, as it was: prefill, then sample
     * and evaluate one token at a time until an end-of-generation token, the token limit, the context end, or the
     * listener said stop.
     */
    private static Old oldLoop(int[] promptTokens, int maxTokens, Sampler sampler, int stopAfter) {
        int context = reference.contextLength();
        float[] logits = reference.forward(promptTokens, promptTokens.length, 0);
        int[] generated = new int[Math.max(0, Math.min(maxTokens, context - promptTokens.length))];
        int[] next = new int[1];
        int count = 0;
        String reason = "TOKEN_LIMIT";
        while (true) {
            if (count == maxTokens) {
                break;
            }
            if (count == generated.length) {
                reason = "CONTEXT_FULL";
                break;
            }
            int token = sampler.sample(logits);
            if (reference.tokenizer().isEndOfGeneration(token)) {
                reason = "END_OF_GENERATION";
                break;
            }
            generated[count++] = token;
            if (count == stopAfter) {
                reason = "STOP_TEXT";
                break;
            }
            if (count == maxTokens || promptTokens.length + count == context) {
                continue;
            }
            next[0] = token;
            logits = reference.forward(next, 1, promptTokens.length + count - 1);
        }
        return new Old(Arrays.copyOf(generated, count), reason);
    }

    @Test
    void greedyGenerationFollowsTheScalarReference() throws Exception {
        int[] prompt = {1, 500, 9000, 31000, 42};
        List<String> streamed = new ArrayList<>();
        Generation.Result result = session.generate(prompt, settings(Sampler.greedy(), 6), streamed::add);
        int[] expected = scalarGreedy(prompt, 6);
        assertArrayEquals(expected, result.tokens());
        assertEquals(Generation.StopReason.TOKEN_LIMIT, result.stopReason());
        assertEquals(5, result.promptTokens());
        assertEquals(5, result.prefilledTokens());
        assertEquals(5, result.decodedTokens(), "the last token is sampled, not evaluated");
        assertTrue(result.prefillTokensPerSecond() > 0 && result.decodeTokensPerSecond() > 0);
        Utf8Text text = new Utf8Text(engine.tokenizer());
        assertEquals(text.of(expected), String.join("", streamed), "the listener gets the tokens' text, in order");
    }

    /** The streamed text of tokens, as the decoder gives it. */
    private record Utf8Text(Tokenizer tokenizer) {
        String of(int[] tokens) {
            var decoder = tokenizer.streamDecoder();
            StringBuilder text = new StringBuilder();
            for (int token : tokens) {
                text.append(decoder.feed(token));
            }
            return text.append(decoder.flush()).toString();
        }
    }

    @Test
    void samplesTheSameTokensAndStopsWhereTheOldLoopDid() {
        int[][] prompts = {{1, 500, 9000, 31000, 42}, {1, 7}, {1, 3000, 3001, 3002, 3003, 3004, 3005, 3006}};
        int cases = 0;
        for (int[] prompt : prompts) {
            for (long seed = 0; seed < 4; seed++) {
                for (int maxTokens : new int[] {0, 1, 12}) {
                    for (int stopAfter : new int[] {3, -1}) {
                        Old expected = oldLoop(prompt, maxTokens, new Sampler(1.5f, 0, 1f, seed), stopAfter);
                        int[] seen = {0};
                        session.clear();
                        Generation.Result actual = session.generate(prompt,
                                settings(new Sampler(1.5f, 0, 1f, seed), maxTokens), text -> ++seen[0] != stopAfter);
                        String what = "prompt " + Arrays.toString(prompt) + " seed " + seed + " max " + maxTokens
                                + " stop after " + stopAfter;
                        assertArrayEquals(expected.tokens(), actual.tokens(), what);
                        assertEquals(expected.stopReason(), actual.stopReason().name(), what);
                        cases++;
                    }
                }
            }
        }
        assertEquals(72, cases);
    }

    @Test
    void endsAtTheContextWithoutEvaluatingPastIt() {
        int[] longPrompt = new int[CONTEXT - 3];
        Arrays.fill(longPrompt, 300);
        Generation.Result full = session.generate(longPrompt, settings(new Sampler(1f, 0, 1f, 2), 50), text -> true);
        assertEquals(Generation.StopReason.CONTEXT_FULL, full.stopReason());
        assertEquals(3, full.tokens().length, "positions 97, 98 and 99 are left");
        assertEquals(2, full.decodedTokens());
        assertArrayEquals(oldLoop(longPrompt, 50, new Sampler(1f, 0, 1f, 2), -1).tokens(), full.tokens());

        assertThrows(IllegalArgumentException.class,
                () -> session.generate(new int[CONTEXT], settings(Sampler.greedy(), 5), text -> true));
    }

    @Test
    void keepsTheBudgetAndStopsWhenCancelled() {
        int[] prompt = {1, 20, 30, 40};
        session.clear();
        Generation.Result budget = session.generate(prompt,
                new Generation.Settings(Sampler.greedy(), 7, Generation.EndTokens.NONE), text -> true);
        assertEquals(7, budget.tokens().length);
        assertEquals(Generation.StopReason.TOKEN_LIMIT, budget.stopReason());
        assertEquals(6, budget.decodedTokens());

        int[] polls = {0};
        List<String> texts = new ArrayList<>();
        session.clear();
        Generation.Result cancelled = session.generate(prompt, new Generation.Settings(Sampler.greedy(), 50,
                Generation.EndTokens.NONE, () -> ++polls[0] > 4), texts::add);
        assertEquals(Generation.StopReason.CANCELLED, cancelled.stopReason());
        assertArrayEquals(Arrays.copyOf(budget.tokens(), 4), cancelled.tokens(), "polled before each token");
        assertEquals(4, texts.size(), "no text after the cancel");

        Generation.Result before = session.generate(prompt,
                new Generation.Settings(Sampler.greedy(), 50, Generation.EndTokens.NONE, () -> true), text -> true);
        assertEquals(0, before.tokens().length);
        assertEquals(Generation.StopReason.CANCELLED, before.stopReason());
    }

    /** A deadline or cancel holds during a long prefill too: one prompt cannot buy a whole context of CPU time. */
    @Test
    void asksBetweenPrefillChunksWhetherToGoOn() {
        int[] prompt = new int[CONTEXT - 3]; // two chunks: 64 and 33 tokens
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 100 + i;
        }
        int[] polls = {0};
        Generation.Result cancelled = session.generate(prompt, new Generation.Settings(Sampler.greedy(), 2,
                Generation.EndTokens.NONE, () -> ++polls[0] > 0), text -> true);
        assertEquals(Generation.StopReason.CANCELLED, cancelled.stopReason());
        assertEquals(1, polls[0], "asked once, before the second chunk");
        assertEquals(Session.PREFILL_CHUNK, cancelled.prefilledTokens());
        assertEquals(0, cancelled.tokens().length);
        assertEquals(0, cancelled.decodedTokens());
        assertArrayEquals(Arrays.copyOf(prompt, Session.PREFILL_CHUNK), session.tokens(), "the slot holds the first chunk");

        polls[0] = 0;
        Generation.Result resumed = session.generate(prompt, new Generation.Settings(Sampler.greedy(), 2,
                Generation.EndTokens.NONE, () -> ++polls[0] > 100), text -> true);
        assertEquals(prompt.length - Session.PREFILL_CHUNK, resumed.prefilledTokens(), "the first chunk is reused");
        assertEquals(2, polls[0], "no chunk boundary in the rest: asked before each of the two tokens");
        session.clear();
        Generation.Result fresh = session.generate(prompt, new Generation.Settings(Sampler.greedy(), 2,
                Generation.EndTokens.NONE), text -> true);
        assertArrayEquals(fresh.tokens(), resumed.tokens(), "a chunked prefill changes nothing");
    }

    @Test
    void reusesWhatTheSlotHoldsAndOnlyThat() {
        int[] a = {1, 600, 700, 800, 900};
        int[] b = {1, 600, 700, 5, 6, 7};
        int[] fresh = session.generate(a, settings(Sampler.greedy(), 4), t -> true).tokens();
        assertEquals(5, session.generate(b, settings(Sampler.greedy(), 3), t -> true).prefilledTokens() + 2,
                "b shares 1, 600, 700 with a");
        assertArrayEquals(new int[] {1, 600, 700, 5, 6, 7}, Arrays.copyOf(session.tokens(), 6));
        Generation.Result reused = session.generate(a, settings(Sampler.greedy(), 4), t -> true);
        assertArrayEquals(fresh, reused.tokens(), "reusing keys and values changes nothing");
        assertEquals(2, reused.prefilledTokens());

        session.generate(a, settings(Sampler.greedy(), 0), t -> true);
        assertArrayEquals(a, session.tokens());
        assertEquals(1, session.generate(a, settings(Sampler.greedy(), 4), t -> true).prefilledTokens(),
                "the last prompt token is evaluated again for its logits");

        session.clear();
        assertEquals(5, session.generate(a, settings(Sampler.greedy(), 4), t -> true).prefilledTokens());
    }

    @Test
    void oneSessionHoldsTheCacheAtATime() {
        assertThrows(IllegalStateException.class, () -> engine.openSession());
        assertThrows(IllegalStateException.class, () -> engine.forward(new int[] {1}, 1, 0));
        Session closed = session;
        session.close();
        engine.forward(new int[] {1}, 1, 0);
        session = engine.openSession();
        assertThrows(IllegalStateException.class,
                () -> closed.generate(new int[] {1, 2}, settings(Sampler.greedy(), 1), t -> true),
                "a closed session's slot is another's now");
    }

    @Test
    void engineReportsItsSetup() {
        assertEquals("synthetic-tiny-q8_0", engine.modelName());
        assertEquals(CONTEXT, engine.contextLength());
        assertTrue(engine.backendDescription().startsWith("cpu (2 threads, "), engine.backendDescription());
        assertEquals(64, engine.config().dim());
        assertThrows(IllegalArgumentException.class,
                () -> Engine.load(modelPath, new EngineOptions(257, 1, "cpu")), "beyond the model's 256");
        assertThrows(IllegalArgumentException.class, () -> Engine.load(modelPath, new EngineOptions(0, 1, "nope")));
    }
}
