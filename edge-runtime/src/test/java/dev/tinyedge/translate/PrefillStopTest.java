package dev.tinyedge.translate;

import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.engine.Session;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request's deadline and cancel hold during the prefill too: a client cannot buy a whole context's worth of
 * CPU time with one long text once its time is up.
 */
class PrefillStopTest {
    private static final Language DE = Language.of("de").orElseThrow();
    private static EngineTranslator translator;

    @BeforeAll
    static void load() throws Exception {
        translator = EngineTranslator.load(TinyModel.path(), new EngineOptions(0, 1, "cpu"), true);
    }

    @AfterAll
    static void close() {
        translator.close();
    }

    @Test
    void stopsBetweenPrefillChunks() {
        String text = "the quick brown fox jumps over the lazy dog ".repeat(7); // 239 tokens, within the model's 256
        AtomicInteger asked = new AtomicInteger();
        // the request's time is up as soon as it is asked: after the first chunk of the prompt
        Translation stopped = translator.translate(text, null, DE, 16, piece -> { }, () -> asked.incrementAndGet() > 0);
        assertTrue(stopped.stopped());
        assertEquals(1, asked.get());
        assertTrue(stopped.promptTokens() > 3 * Session.PREFILL_CHUNK, "a long prompt: " + stopped.promptTokens());
        assertEquals(Session.PREFILL_CHUNK, stopped.prefilledTokens(), "stopped after the first chunk");
        assertEquals(0, stopped.generatedTokens());
        assertEquals("", stopped.text());

        // the cache holds what was evaluated: the next request still translates normally
        Translation next = translator.translate("good morning", null, DE, 4, piece -> { }, () -> false);
        assertTrue(!next.stopped() && next.generatedTokens() > 0, next.toString());
    }
}
