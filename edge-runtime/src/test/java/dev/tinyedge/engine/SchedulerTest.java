package dev.tinyedge.engine;

import dev.tinyedge.board.KvCacheType;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching end to end on a real (small, random) model: greedy continuations served together equal
 * those served one at a time, arrivals and departures between steps leave the running sequences' tokens alone,
 * and a cancelled sequence frees its slot for a waiting one.
 */
class SchedulerTest {
    private static final int CONTEXT = 160;
    private static final int PARALLEL = 8;

    @TempDir
    static Path dir;
    static Path model;
    static Engine alone;
    static Engine batched;

    @BeforeAll
    static void load() throws Exception {
        model = TestModels.writeWithVocabulary(dir, dev.tinyedge.model.SyntheticModel.TINY, GgmlType.F32, 5);
        alone = Engine.load(model, new EngineOptions(CONTEXT, 2, "cpu"));
        batched = Engine.load(model, new EngineOptions(CONTEXT, 2, "cpu", PARALLEL, KvCacheType.F32));
    }

    @AfterAll
    static void close() {
        alone.close();
        batched.close();
    }

    private static int[] prompt(int length, long seed) {
        return new SplittableRandom(seed).ints(length, 3, alone.config().vocabSize()).toArray();
    }

    private static Generation.Settings greedy(int maxTokens) {
        return new Generation.Settings(Sampler.greedy(), maxTokens, Generation.EndTokens.NONE);
    }

    /** The greedy continuation of {@code prompt} generated on its own, in a fresh session. */
    private static int[] servedAlone(int[] prompt, int maxTokens) {
        try (Session session = alone.openSession()) {
            session.clear();
            return session.generate(prompt, greedy(maxTokens), text -> true).tokens();
        }
    }

    @Test
    void eightRequestsServedTogetherEqualThoseServedOneAtATime() throws Exception {
        int[][] prompts = new int[PARALLEL][];
        for (int i = 0; i < PARALLEL; i++) {
            prompts[i] = prompt(5 + 11 * i, 100 + i); // 5 .. 82 tokens: some take several steps of prompt
        }
        int[][] expected = new int[PARALLEL][];
        for (int i = 0; i < PARALLEL; i++) {
            expected[i] = servedAlone(prompts[i], 24);
        }
        try (Scheduler scheduler = new Scheduler(batched, true, new int[0]);
             ExecutorService callers = Executors.newFixedThreadPool(PARALLEL)) {
            assertEquals(PARALLEL, scheduler.parallel());
            List<Future<Generation.Result>> results = new ArrayList<>();
            for (int i = 0; i < PARALLEL; i++) {
                int[] prompt = prompts[i];
                results.add(callers.submit(() -> scheduler.generate(prompt, greedy(24), text -> true)));
            }
            for (int i = 0; i < PARALLEL; i++) {
                Generation.Result result = results.get(i).get(60, TimeUnit.SECONDS);
                assertArrayEquals(expected[i], result.tokens(), "request " + i);
                assertEquals(Generation.StopReason.TOKEN_LIMIT, result.stopReason());
                assertEquals(prompts[i].length, result.promptTokens());
            }
        }
    }

    @Test
    void aRequestArrivingMidGenerationLeavesTheRunningStreamAlone() throws Exception {
        int[] first = prompt(20, 200);
        int[] second = prompt(70, 201); // its prompt is evaluated in chunks beside the first one's tokens
        int[] expectedFirst = servedAlone(first, 40);
        int[] expectedSecond = servedAlone(second, 10);
        try (Scheduler scheduler = new Scheduler(batched, true, new int[0]);
             ExecutorService callers = Executors.newFixedThreadPool(2)) {
            CountDownLatch tenTokens = new CountDownLatch(10);
            List<String> stream = new ArrayList<>();
            Future<Generation.Result> running = callers.submit(() -> scheduler.generate(first, greedy(40), text -> {
                stream.add(text);
                tenTokens.countDown();
                return true;
            }));
            assertTrue(tenTokens.await(30, TimeUnit.SECONDS));
            Future<Generation.Result> arriving = callers.submit(() -> scheduler.generate(second, greedy(10), t -> true));
            Generation.Result a = running.get(60, TimeUnit.SECONDS);
            Generation.Result b = arriving.get(60, TimeUnit.SECONDS);
            assertArrayEquals(expectedFirst, a.tokens(), "the running stream");
            assertArrayEquals(expectedSecond, b.tokens(), "the arrival");
            assertTrue(stream.size() >= 40, "a piece of text per token");
        }
    }

    @Test
    void aCancelledSequenceFreesItsSlotForAWaitingOne() throws Exception {
        try (Engine two = Engine.load(model, new EngineOptions(CONTEXT, 2, "cpu", 2, KvCacheType.F32));
             Scheduler scheduler = new Scheduler(two, true, new int[0]);
             ExecutorService callers = Executors.newFixedThreadPool(3)) {
            AtomicBoolean cancel = new AtomicBoolean();
            AtomicInteger longTokens = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(2);
            int[] kept = prompt(10, 301);
            int[] expectedKept = servedAlone(kept, 120);
            // 10 ms per token of the cancelled one paces every step: both run for well over a second
            Future<Generation.Result> cancelled = callers.submit(() -> scheduler.generate(prompt(10, 300),
                    new Generation.Settings(Sampler.greedy(), 1000, Generation.EndTokens.NONE, cancel::get),
                    text -> {
                        longTokens.incrementAndGet();
                        started.countDown();
                        sleep(10);
                        return true;
                    }));
            Future<Generation.Result> other = callers.submit(() -> scheduler.generate(kept, greedy(120), text -> {
                started.countDown();
                return true;
            }));
            assertTrue(started.await(30, TimeUnit.SECONDS));
            int[] waitingPrompt = prompt(8, 302);
            Future<Generation.Result> waiting = callers.submit(() -> scheduler.generate(waitingPrompt, greedy(5), t -> true));
            Thread.sleep(100);
            assertFalse(waiting.isDone(), "both slots are taken: the third waits");
            cancel.set(true);
            Generation.Result result = cancelled.get(30, TimeUnit.SECONDS);
            assertEquals(Generation.StopReason.CANCELLED, result.stopReason());
            assertTrue(result.tokens().length < 1000);
            assertArrayEquals(servedAlone(waitingPrompt, 5), waiting.get(30, TimeUnit.SECONDS).tokens(),
                    "the waiting sequence ran in the freed slot");
            assertArrayEquals(expectedKept, other.get(30, TimeUnit.SECONDS).tokens(), "the other sequence ran on");
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theSharedPrefixIsEvaluatedOnceAndCopiedIntoEverySlot() throws Exception {
        int[] instructions = prompt(30, 400);
        int[][] requests = new int[PARALLEL][];
        int[][] expected = new int[PARALLEL][];
        for (int i = 0; i < PARALLEL; i++) {
            requests[i] = Arrays.copyOf(instructions, 36);
            System.arraycopy(prompt(6, 401 + i), 0, requests[i], 30, 6);
            expected[i] = servedAlone(requests[i], 12);
        }
        try (Scheduler scheduler = new Scheduler(batched, true, instructions);
             ExecutorService callers = Executors.newFixedThreadPool(PARALLEL)) {
            List<Future<Generation.Result>> results = new ArrayList<>();
            for (int i = 0; i < PARALLEL; i++) {
                int[] request = requests[i];
                results.add(callers.submit(() -> scheduler.generate(request, greedy(12), t -> true)));
            }
            for (int i = 0; i < PARALLEL; i++) {
                Generation.Result r = results.get(i).get(60, TimeUnit.SECONDS);
                assertArrayEquals(expected[i], r.tokens(), "request " + i);
                assertEquals(6, r.prefilledTokens(), "only the request's own tokens are evaluated");
            }
        }
    }

    @Test
    void refusesWhatTheContextCannotHoldAndCallsAfterClose() {
        Scheduler scheduler = new Scheduler(batched, true, new int[0]);
        assertThrows(IllegalArgumentException.class, () -> scheduler.generate(new int[0], greedy(1), t -> true));
        assertThrows(IllegalArgumentException.class,
                () -> scheduler.generate(prompt(CONTEXT, 1), greedy(1), t -> true));
        scheduler.close();
        assertThrows(IllegalStateException.class, () -> scheduler.generate(prompt(3, 1), greedy(1), t -> true));
    }
}
