package dev.tinyedge.translate;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.engine.Generation;
import dev.tinyedge.engine.Session;
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
 * <p>Every prompt starts with the same instructions, and the translator's {@link Session} keeps what its KV
 * cache holds between requests: a new request is only prefilled from where it differs from the last one, so
 * the instructions are evaluated once per process, not once per request.
 */
public final class EngineTranslator implements Translator, AutoCloseable {
    /** The answer may be this many times longer than the text in tokens, plus {@link #BUDGET_SLACK}. */
    private static final int BUDGET_PER_INPUT_TOKEN = 2;
    private static final int BUDGET_SLACK = 16;

    private final Engine engine;
    private final Session session;
    private final PromptFormat format;
    private final PromptBuilder prompts;
    private final boolean reusePrefix;

    EngineTranslator(Engine engine, PromptFormat format, boolean reusePrefix) {
        this.engine = engine;
        this.session = engine.openSession();
        this.format = format;
        this.prompts = new PromptBuilder(engine.tokenizer(), format);
        this.reusePrefix = reusePrefix;
    }

    /**
     * Loads a model and picks its prompt format from {@code tokenizer.chat_template} (SalamandraTA by name).
     *
     * @param reusePrefix keep the instructions' KV cache between requests (off only to measure what it saves)
     */
    public static EngineTranslator load(Path model, EngineOptions options, boolean reusePrefix)
            throws IOException, GgufFormatException {
        String chatTemplate;
        try (GgufFile file = GgufFile.open(model)) {
            chatTemplate = file.getString("tokenizer.chat_template", null);
        }
        Engine engine = Engine.load(model, options);
        EngineTranslator translator = new EngineTranslator(engine, PromptFormat.detect(chatTemplate, engine.modelName()),
                reusePrefix);
        if (reusePrefix) {
            translator.evaluateSharedPrefix();
        }
        return translator;
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

    /** Fills the cache with the instructions so that even the first request only prefills its own tokens. */
    private synchronized void evaluateSharedPrefix() {
        PromptBuilder.Prompt prompt = prompts.build("");
        if (prompt.sharedPrefix() > 0) {
            session.prefill(Arrays.copyOf(prompt.tokens(), prompt.sharedPrefix()));
        }
    }

    @Override
    public synchronized Translation translate(String text, Language source, Language target, int maxTokens,
                                              Consumer<String> onText, BooleanSupplier stop) {
        int[] prompt = prompts.build(format.userMessage(text, source, target)).tokens();
        if (prompt.length >= session.contextLength()) {
            throw new InputTooLongException("the prompt is " + prompt.length + " tokens; the model's context holds "
                    + session.contextLength());
        }
        int budget = Math.min(maxTokens, BUDGET_PER_INPUT_TOKEN * prompts.countTokens(text) + BUDGET_SLACK);
        if (!reusePrefix) {
            session.clear();
        }
        Answer answer = new Answer(prompts.stopStrings(), onText);
        Generation.Result result = session.generate(prompt,
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
        session.close();
        engine.close();
    }
}
