package dev.tinyedge.service;

import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.Translation;
import dev.tinyedge.translate.Translator;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A translator whose timing the test controls, for the queue's own logic (busy, cancel, timeout, dedup):
 * it "translates" into the upper-cased text, one word per step, sleeping {@code stepMillis} per word; it runs as
 * many translations at once as it says it does ({@link #parallel()}), one per calling thread.
 */
final class ScriptedTranslator implements Translator {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicInteger running = new AtomicInteger();
    final AtomicInteger mostAtOnce = new AtomicInteger();
    private final long stepMillis;
    private final int parallel;

    ScriptedTranslator(long stepMillis) {
        this(stepMillis, 1);
    }

    ScriptedTranslator(long stepMillis, int parallel) {
        this.stepMillis = stepMillis;
        this.parallel = parallel;
    }

    @Override
    public int parallel() {
        return parallel;
    }

    @Override
    public Translation translate(String text, Language source, Language target, int maxTokens,
                                 Consumer<String> onText, BooleanSupplier stop) {
        calls.incrementAndGet();
        mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max);
        try {
            return scripted(text, onText, stop);
        } finally {
            running.decrementAndGet();
        }
    }

    private Translation scripted(String text, Consumer<String> onText, BooleanSupplier stop) {
        String[] words = text.toUpperCase().split(" ");
        StringBuilder out = new StringBuilder();
        int generated = 0;
        for (String word : words) {
            if (stop.getAsBoolean()) {
                return new Translation(out.toString(), words.length, words.length, generated, 0, 0, true);
            }
            try {
                Thread.sleep(stepMillis);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            String piece = (generated == 0 ? "" : " ") + word;
            out.append(piece);
            onText.accept(piece);
            generated++;
        }
        return new Translation(out.toString(), words.length, words.length, generated, 0, 0, false);
    }

    @Override
    public String modelName() {
        return "scripted";
    }

    @Override
    public String backendDescription() {
        return "test";
    }
}
