package dev.tinyedge.translate;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tokenizer.Tokenizer;
import dev.tinyedge.tokenizer.Utf8StreamDecoder;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Translates with a local model, greedily (translation wants the most likely wording, not variety).
 *
 * <p>The KV cache keeps the tokens of the previous request. Every prompt starts with the same instructions,
 * so a new request is only prefilled from where it differs from what the cache holds: the instructions are
 * evaluated once per process, not once per request.
 */
public final class EngineTranslator implements Translator, AutoCloseable {
    /** The answer may be this many times longer than the text in tokens, plus {@link #BUDGET_SLACK}. */
    private static final int BUDGET_PER_INPUT_TOKEN = 2;
    private static final int BUDGET_SLACK = 16;
    /**
     * The prompt is prefilled this many tokens at a time, asking {@code stop} in between, so that a request's
     * deadline or cancel also holds during a long prefill (ForwardPass batches up to 64 tokens anyway).
     */
    static final int PREFILL_CHUNK = 64;

    private final Engine engine;
    private final Tokenizer tokenizer;
    private final PromptFormat format;
    private final PromptBuilder prompts;
    private final boolean reusePrefix;
    /** The tokens whose keys and values are in the engine's cache, at positions 0..cachedLength. */
    private int[] cached = new int[0];
    private int cachedLength;

    EngineTranslator(Engine engine, PromptFormat format, boolean reusePrefix) {
        this.engine = engine;
        this.tokenizer = engine.tokenizer();
        this.format = format;
        this.prompts = new PromptBuilder(tokenizer, format);
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
            engine.forward(prompt.tokens(), prompt.sharedPrefix(), 0);
            cachedLength = 0;
            remember(prompt.tokens(), prompt.sharedPrefix());
        }
    }

    @Override
    public synchronized Translation translate(String text, Language source, Language target, int maxTokens,
                                              Consumer<String> onText, BooleanSupplier stop) {
        int[] prompt = prompts.build(format.userMessage(text, source, target)).tokens();
        int room = engine.contextLength() - prompt.length;
        if (room < 1) {
            throw new InputTooLongException("the prompt is " + prompt.length + " tokens; the model's context holds "
                    + engine.contextLength());
        }
        int budget = Math.min(Math.min(maxTokens, room),
                BUDGET_PER_INPUT_TOKEN * prompts.countTokens(text) + BUDGET_SLACK);

        long start = System.nanoTime();
        // at least the last prompt token is evaluated: its logits choose the first answer token
        int reused = reusePrefix ? commonPrefix(prompt, prompt.length - 1) : 0;
        cachedLength = reused; // entries past the common prefix are overwritten now
        float[] logits = null;
        for (int from = reused; from < prompt.length; from += PREFILL_CHUNK) {
            if (stop.getAsBoolean()) {
                long now = System.nanoTime();
                return new Translation("", prompt.length, from - reused, 0, (now - start) / 1_000_000, 0, true);
            }
            int[] chunk = Arrays.copyOfRange(prompt, from, Math.min(prompt.length, from + PREFILL_CHUNK));
            logits = engine.forward(chunk, chunk.length, from);
            remember(chunk, chunk.length);
        }
        int next = Sampler.argmax(logits, logits.length);
        long firstToken = System.nanoTime();

        StopStrings answer = new StopStrings(prompts.stopStrings());
        Utf8StreamDecoder decoder = tokenizer.streamDecoder();
        boolean started = false;
        boolean stopped = false;
        int generated = 0;
        int[] one = new int[1];
        while (generated < budget && !tokenizer.isEndOfGeneration(next) && !tokenizer.isControl(next)) {
            if (stop.getAsBoolean()) {
                stopped = true;
                break;
            }
            generated++;
            String piece = answer.add(decoder.feed(next));
            if (!started) {
                piece = piece.stripLeading();
                started = !piece.isEmpty();
            }
            if (!piece.isEmpty()) {
                onText.accept(piece);
            }
            if (answer.hit() || generated == budget) {
                break;
            }
            one[0] = next;
            logits = engine.forward(one, 1, cachedLength);
            remember(one, 1);
            next = Sampler.argmax(logits, logits.length);
        }
        if (!answer.hit() && !stopped) {
            String rest = answer.add(decoder.flush()) + answer.flush();
            if (!started) {
                rest = rest.stripLeading();
            }
            if (!rest.isEmpty()) {
                onText.accept(rest);
            }
        }
        long end = System.nanoTime();
        return new Translation(answer.text().strip(), prompt.length, prompt.length - reused, generated,
                (firstToken - start) / 1_000_000, (end - firstToken) / 1_000_000, stopped);
    }

    private int commonPrefix(int[] prompt, int limit) {
        int n = Math.min(cachedLength, limit);
        int i = 0;
        while (i < n && cached[i] == prompt[i]) {
            i++;
        }
        return i;
    }

    /** Records that {@code tokens[0..count)} now sit in the cache after the first {@link #cachedLength}. */
    private void remember(int[] tokens, int count) {
        if (cachedLength + count > cached.length) {
            cached = Arrays.copyOf(cached, Math.max(cachedLength + count, 2 * cached.length));
        }
        System.arraycopy(tokens, 0, cached, cachedLength, count);
        cachedLength += count;
    }


    @Override
    public void close() {
        engine.close();
    }
}
