package dev.tinyedge.translate;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.engine.Generation;
import dev.tinyedge.engine.Scheduler;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.sampling.Sampler;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Translates with a local model, greedily (translation wants the most likely wording, not variety).
 *
 * <p>Translations run through a {@link Scheduler}: as many at once as the engine's KV cache has slots, decoded
 * together in one batched forward pass, each caller's thread waiting for its own. Every prompt starts with the
 * same instructions: they are evaluated once at load in one slot and copied into the others, and each slot
 * keeps what it holds between requests, so a new request is only prefilled from where it differs.
 */
public final class EngineTranslator implements Translator, AutoCloseable {
    /** The answer may be this many times longer than the text in tokens, plus {@link #BUDGET_SLACK}. */
    private static final int BUDGET_PER_INPUT_TOKEN = 2;
    private static final int BUDGET_SLACK = 16;

    private final Engine engine;
    private final Scheduler scheduler;
    private final PromptFormat format;
    private final PromptBuilder prompts;

    EngineTranslator(Engine engine, PromptFormat format, boolean reusePrefix) {
        this.engine = engine;
        this.format = format;
        this.prompts = new PromptBuilder(engine.tokenizer(), format);
        PromptBuilder.Prompt instructions = prompts.build("");
        this.scheduler = new Scheduler(engine, reusePrefix,
                Arrays.copyOf(instructions.tokens(), instructions.sharedPrefix()));
    }

    /**
     * Loads a model and picks its prompt format from {@code tokenizer.chat_template} (SalamandraTA by name).
     *
     * @param options     {@link EngineOptions#parallel}: translations at once
     * @param reusePrefix keep the instructions' KV cache between requests (off only to measure what it saves)
     */
    public static EngineTranslator load(Path model, EngineOptions options, boolean reusePrefix)
            throws IOException, GgufFormatException {
        String chatTemplate;
        try (GgufFile file = GgufFile.open(model)) {
            chatTemplate = file.getString("tokenizer.chat_template", null);
        }
        Engine engine = Engine.load(model, options);
        try {
            return new EngineTranslator(engine, PromptFormat.detect(chatTemplate, engine.modelName()), reusePrefix);
        } catch (RuntimeException | Error e) {
            engine.close();
            throw e;
        }
    }

    @Override
    public int parallel() {
        return scheduler.parallel();
    }

    /** Fewer CPU threads while the board is hot (see {@link Engine#limitThreads}). */
    public void limitThreads(int threads) {
        engine.limitThreads(threads);
    }

    public PromptFormat format() {
        return format;
    }

    @Override
    public String modelName() {
        return engine.modelName();
    }

    @Override
    public String backendDescription() {
        return engine.backendDescription();
    }

    @Override
    public Translation translate(String text, Language source, Language target, int maxTokens,
                                              Consumer<String> onText, BooleanSupplier stop) {
        int[] prompt = prompts.build(format.userMessage(text, source, target)).tokens();
        if (prompt.length >= scheduler.contextLength()) {
            throw new InputTooLongException("the prompt is " + prompt.length + " tokens; the model's context holds "
                    + scheduler.contextLength());
        }
        int budget = Math.min(maxTokens, BUDGET_PER_INPUT_TOKEN * prompts.countTokens(text) + BUDGET_SLACK);
        Answer answer = new Answer(prompts.stopStrings(), onText);
        Generation.Result result = scheduler.generate(prompt,
                new Generation.Settings(Sampler.greedy(), budget, Generation.EndTokens.END_OF_TURN, stop), answer);
        boolean cancelled = result.stopReason() == Generation.StopReason.CANCELLED;
        if (!cancelled && result.stopReason() != Generation.StopReason.STOP_TEXT) {
            answer.emit(answer.stops.flush());
        }
        return new Translation(answer.stops.text().strip(), result.promptTokens(), result.prefilledTokens(),
                result.tokens().length, result.prefillNanos() / 1_000_000, result.decodeNanos() / 1_000_000, cancelled);
    }

    /**
     * The answer as it streams: cut at the first stop string (text that might start one is held back), and
     * without the whitespace the model writes before it.
     */
    private static final class Answer implements Generation.Listener {
        final StopStrings stops;
        private final Consumer<String> onText;
        private boolean started;

        Answer(List<String> stopStrings, Consumer<String> onText) {
            this.stops = new StopStrings(stopStrings);
            this.onText = onText;
        }

        @Override
        public boolean onText(String text) {
            emit(stops.add(text));
            return !stops.hit();
        }

        void emit(String piece) {
            if (!started) {
                piece = piece.stripLeading();
                started = !piece.isEmpty();
            }
            if (!piece.isEmpty()) {
                onText.accept(piece);
            }
        }
    }

    @Override
    public void close() {
        scheduler.close();
        engine.close();
    }
}
