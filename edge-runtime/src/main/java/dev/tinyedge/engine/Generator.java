package dev.tinyedge.engine;

import dev.tinyedge.sampling.Sampler;

import java.util.Arrays;

/**
 * The generation loop shared by the CLI and the daemon: prefill the prompt in one batch, then sample and
 * evaluate one token at a time until an end-of-generation token ({@code Tokenizer.isEndOfGeneration}: EOS,
 * {@code <|im_end|>}, {@code <end_of_turn>}, ...), the token limit, the context end, or the listener says stop.
 */
public final class Generator {
    /** Receives each generated token as soon as it is sampled (an end-of-generation token is not reported). */
    @FunctionalInterface
    public interface TokenListener {
        /** Returns false to stop generating. */
        boolean onToken(int token);
    }

    public enum StopReason { END_OF_SEQUENCE, MAX_TOKENS, CONTEXT_FULL, STOPPED }

    /**
     * What came out: the generated tokens (without the end-of-generation token), and the time spent evaluating the prompt (its
     * {@code prefilledTokens} not already cached) and the generated tokens ({@code decodedTokens} forward
     * passes).
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

    private final Engine engine;

    public Generator(Engine engine) {
        this.engine = engine;
    }

    /** Generates up to maxTokens tokens after the prompt (which starts at position 0). */
    public Result generate(int[] promptTokens, int maxTokens, Sampler sampler, TokenListener listener) {
        return generate(promptTokens, 0, maxTokens, sampler, listener);
    }

    /**
     * Like {@link #generate(int[], int, Sampler, TokenListener)}, but the first {@code cachedPrefix} prompt
     * tokens are already in the KV cache from an earlier call (a shared system prompt, say) and are not
     * evaluated again. At least the last prompt token is always evaluated, for its logits.
     */
    public Result generate(int[] promptTokens, int cachedPrefix, int maxTokens, Sampler sampler, TokenListener listener) {
        int context = engine.contextLength();
        if (maxTokens < 0) {
            throw new IllegalArgumentException("the token limit must not be negative, got " + maxTokens);
        }
        if (promptTokens.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (cachedPrefix < 0 || cachedPrefix >= promptTokens.length) {
            throw new IllegalArgumentException("the cached prefix (" + cachedPrefix + ") must be shorter than the prompt ("
                    + promptTokens.length + " tokens)");
        }
        if (promptTokens.length >= context) {
            throw new IllegalArgumentException("the prompt has " + promptTokens.length
                    + " tokens, which leaves no room in the context of " + context);
        }
        int[] uncached = Arrays.copyOfRange(promptTokens, cachedPrefix, promptTokens.length);
        long started = System.nanoTime();
        float[] logits = engine.forward(uncached, uncached.length, cachedPrefix);
        long prefillNanos = System.nanoTime() - started;

        int[] generated = new int[Math.max(0, Math.min(maxTokens, context - promptTokens.length))];
        int[] next = new int[1];
        int count = 0;
        int decoded = 0;
        long decodeNanos = 0;
        StopReason reason = StopReason.MAX_TOKENS;
        while (true) {
            if (count == maxTokens) {
                break;
            }
            if (count == generated.length) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            int token = sampler.sample(logits);
            if (engine.tokenizer().isEndOfGeneration(token)) {
                reason = StopReason.END_OF_SEQUENCE;
                break;
            }
            generated[count++] = token;
            if (!listener.onToken(token)) {
                reason = StopReason.STOPPED;
                break;
            }
            if (count == maxTokens || promptTokens.length + count == context) {
                continue; // the loop ends above without evaluating a token nobody will use
            }
            next[0] = token;
            long t = System.nanoTime();
            logits = engine.forward(next, 1, promptTokens.length + count - 1);
            decodeNanos += System.nanoTime() - t;
            decoded++;
        }
        return new Result(Arrays.copyOf(generated, count), promptTokens.length, uncached.length, prefillNanos, decoded,
                decodeNanos, reason);
    }
}
