package dev.tinyedge.engine;

import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tokenizer.Tokenizer;
import dev.tinyedge.tokenizer.Utf8StreamDecoder;

import java.util.Arrays;
import java.util.function.BooleanSupplier;

/**
 * One sequence's generation, step by step: given the logits of the token just evaluated, it samples the next
 * token, decides whether generation ends there, and hands the token's text to the listener. The evaluation
 * itself is the {@link Session}'s; keeping the two apart lets one loop drive every caller (generate, translate,
 * bench, the daemon) and, later, a scheduler step several sequences through one batched forward pass.
 */
public final class Generation {

    /** Which sampled tokens end a generation; the ending token is not part of the output. */
    public enum EndTokens {
        /** None: a benchmark generates a fixed number of tokens. */
        NONE,
        /** End-of-generation tokens, where llama.cpp stops. */
        END_OF_GENERATION,
        /** Those and every other control token: a chat answer ends at any turn marker. */
        END_OF_TURN
    }

    public enum StopReason {
        /** The model generated an ending token ({@link EndTokens}). */
        END_OF_GENERATION,
        /** The listener said stop (a stop string appeared in the text). */
        STOP_TEXT,
        /** {@link Settings#maxTokens} tokens were generated. */
        TOKEN_LIMIT,
        /** The context holds no more tokens. */
        CONTEXT_FULL,
        /** {@link Settings#cancelled} said so, before a token or between chunks of the prompt. */
        CANCELLED
    }

    /**
     * @param maxTokens the token budget (at least 0)
     * @param cancelled polled before each token and between the prompt's chunks (see {@link Session#generate});
     *                  true ends generation with {@link StopReason#CANCELLED}
     */
    public record Settings(Sampler sampler, int maxTokens, EndTokens endTokens, BooleanSupplier cancelled) {
        public Settings {
            if (maxTokens < 0) {
                throw new IllegalArgumentException("the token limit must not be negative, got " + maxTokens);
            }
        }

        /** Nothing cancels it. */
        public Settings(Sampler sampler, int maxTokens, EndTokens endTokens) {
            this(sampler, maxTokens, endTokens, () -> false);
        }
    }

    /** Receives the generated text as it comes. */
    @FunctionalInterface
    public interface Listener {
        /**
         * The text the latest token completes: whole UTF-8 characters, possibly empty (a character still
         * incomplete, a control token). When generation ends on its own (not cancelled, not stopped here), one
         * last call brings what the decoder still held, and its answer is ignored.
         *
         * @return false to end generation after this token ({@link StopReason#STOP_TEXT})
         */
        boolean onText(String text);
    }

    /**
     * What came out: the generated tokens (without the ending token), and the time to the first token (the
     * prompt's {@code prefilledTokens} not already cached, evaluated in one batch, and the first sampling) and
     * after it ({@code decodedTokens} single-token forward passes).
     */
    public record Result(int[] tokens, int promptTokens, int prefilledTokens, long prefillNanos, int decodedTokens,
                         long decodeNanos, StopReason stopReason) {
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : prefilledTokens * 1e9 / prefillNanos;
        }

        public double decodeTokensPerSecond() {
            return decodeNanos == 0 ? 0 : decodedTokens * 1e9 / decodeNanos;
        }
    }

    private final Tokenizer tokenizer;
    private final Settings settings;
    private final Listener listener;
    private final Utf8StreamDecoder decoder;
    /** Positions left in the context after the prompt: the most tokens this generation can hold. */
    private final int room;
    private final int[] generated;
    private int count;
    private StopReason stopReason;

    Generation(Tokenizer tokenizer, Settings settings, Listener listener, int room) {
        this.tokenizer = tokenizer;
        this.settings = settings;
        this.listener = listener;
        this.decoder = tokenizer.streamDecoder();
        this.room = room;
        this.generated = new int[Math.min(settings.maxTokens(), room)];
    }

    /**
     * Takes the logits of the last evaluated token and returns the next token to evaluate, or -1 when the
     * generation is over. A token after which nothing more can be generated (the budget or the context is
     * spent) is output but not evaluated.
     */
    int next(float[] logits) {
        if (settings.cancelled().getAsBoolean()) {
            return end(StopReason.CANCELLED);
        }
        if (count == settings.maxTokens()) {
            return end(StopReason.TOKEN_LIMIT);
        }
        if (count == room) {
            return end(StopReason.CONTEXT_FULL);
        }
        int token = settings.sampler().sample(logits);
        if (ends(token)) {
            return end(StopReason.END_OF_GENERATION);
        }
        generated[count++] = token;
        if (!listener.onText(decoder.feed(token))) {
            return end(StopReason.STOP_TEXT);
        }
        if (count == settings.maxTokens()) {
            return end(StopReason.TOKEN_LIMIT);
        }
        if (count == room) {
            return end(StopReason.CONTEXT_FULL);
        }
        return token;
    }

    /**
     * Asked by the session between chunks of the prompt: true, and the generation ends {@link StopReason#CANCELLED}
     * with no tokens, when {@link Settings#cancelled} says so.
     */
    boolean cancelledBeforeNextChunk() {
        if (!settings.cancelled().getAsBoolean()) {
            return false;
        }
        end(StopReason.CANCELLED);
        return true;
    }

    private boolean ends(int token) {
        return switch (settings.endTokens()) {
            case NONE -> false;
            case END_OF_GENERATION -> isEndOfGeneration(token);
            case END_OF_TURN -> isEndOfGeneration(token) || tokenizer.isControl(token);
        };
    }

    /** The vocabulary's end-of-generation tokens (EOS, {@code <|im_end|>}, {@code <end_of_turn>}, ...). */
    private boolean isEndOfGeneration(int token) {
        return tokenizer.isEndOfGeneration(token);
    }

    private int end(StopReason reason) {
        stopReason = reason;
        if (reason != StopReason.CANCELLED && reason != StopReason.STOP_TEXT) {
            String rest = decoder.flush();
            if (!rest.isEmpty()) {
                listener.onText(rest);
            }
        }
        return -1;
    }

    Result result(int promptTokens, int prefilledTokens, long prefillNanos, int decodedTokens, long decodeNanos) {
        return new Result(Arrays.copyOf(generated, count), promptTokens, prefilledTokens, prefillNanos, decodedTokens,
                decodeNanos, stopReason);
    }
}
