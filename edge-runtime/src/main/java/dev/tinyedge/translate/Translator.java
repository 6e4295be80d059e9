package dev.tinyedge.translate;

import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Translates texts, {@link #parallel()} of them at once when called from that many threads. The service depends
 * on this rather than on the engine behind it.
 */
public interface Translator {
    /**
     * @param source    the source language, or null to let the model detect it
     * @param maxTokens the caller's cap on generated tokens (the translator applies its own, smaller budget too)
     * @param onText    receives the translation piece by piece as it is generated (whitespace-trimmed at the start)
     * @param stop      polled before each generated token; true ends generation with {@link Translation#stopped()}
     * @throws InputTooLongException when the prompt does not fit the model's context
     */
    Translation translate(String text, Language source, Language target, int maxTokens,
                          Consumer<String> onText, BooleanSupplier stop);

    String modelName();

    /** Translations that run at once (on as many calling threads); more calls wait for one to end. */
    default int parallel() {
        return 1;
    }

    String backendDescription();
}
