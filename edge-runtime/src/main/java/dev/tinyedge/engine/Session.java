package dev.tinyedge.engine;

import java.util.Arrays;

/**
 * One sequence on an {@link Engine}: it owns one KV-cache slot of the backend and knows which tokens the slot
 * holds, so a prompt that starts like the previous one (the same instructions) is evaluated only from where it
 * differs. {@link #generate} runs one sequence on its own; a {@link Scheduler} steps several sessions together.
 * Not thread-safe.
 */
public final class Session implements AutoCloseable {
    /**
     * {@link #generate} evaluates a prompt this many tokens at a time, asking between chunks whether to go on.
     * Both backends batch 64 tokens per forward pass anyway, so the chunks cost nothing and change no result.
     */
    public static final int PREFILL_CHUNK = 64;

    private final Engine engine;
    /** The KV-cache slot of the backend this session owns. */
    private final int slot;
    /** The tokens whose keys and values the slot holds, at positions 0..length. */
    private int[] held = new int[64];
    private int length;
    private boolean closed;

    Session(Engine engine, int slot) {
        this.engine = engine;
        this.slot = slot;
    }

    /** The KV-cache slot this session owns. */
    public int slot() {
        return slot;
    }

    public int contextLength() {
        return engine.contextLength();
    }

    /** The tokens the slot holds, in position order. */
    public int[] tokens() {
        return Arrays.copyOf(held, length);
    }

    /** Forgets what the slot holds: the next prompt is evaluated from position 0. */
    public void clear() {
        length = 0;
    }

    /**
     * Makes the slot hold {@code prompt}, evaluating only what follows the longest prefix it already holds (but
     * at least the last token, for its logits), and returns the logits of the last token, in a buffer that the
     * next evaluation reuses.
     */
    public float[] prefill(int[] prompt) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (prompt.length > contextLength()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length + " tokens; the context holds "
                    + contextLength());
        }
        length = heldPrefix(prompt);
        return append(Arrays.copyOfRange(prompt, length, prompt.length));
    }

    /** How many of the prompt's first tokens the slot holds already, leaving out the last one. */
    int heldPrefix(int[] prompt) {
        int limit = Math.min(length, prompt.length - 1);
        int same = 0;
        while (same < limit && held[same] == prompt[same]) {
            same++;
        }
        return same;
    }

    /**
     * Evaluates {@code tokens} at the positions after what the slot holds. Entries past the held tokens are
     * overwritten, so they count as held only once the evaluation succeeded.
     */
    private float[] append(int[] tokens) {
        if (closed) {
            throw new IllegalStateException("the session is closed: its KV-cache slot may belong to another");
        }
        float[] logits = engine.evaluate(slot, tokens, tokens.length, length);
        evaluated(tokens, 0, tokens.length);
        return logits;
    }

    /** Tokens the slot holds. */
    int length() {
        return length;
    }

    /** Keeps only the first {@code positions} tokens: what follows will be overwritten. */
    void keep(int positions) {
        length = Math.min(length, positions);
    }

    /** Counts tokens[from, from + count) as held after the positions held: a step evaluated them there. */
    void evaluated(int[] tokens, int from, int count) {
        if (closed) {
            throw new IllegalStateException("the session is closed: its KV-cache slot may belong to another");
        }
        if (length + count > held.length) {
            held = Arrays.copyOf(held, Math.max(length + count, 2 * held.length));
        }
        System.arraycopy(tokens, from, held, length, count);
        length += count;
    }

    /**
     * Makes the slot hold the first {@code positions} tokens that {@code other}'s holds, by copying their keys and
     * values rather than evaluating them again.
     */
    void copyPrefixFrom(Session other, int positions) {
        if (positions > other.length) {
            throw new IllegalArgumentException("the other session holds " + other.length + " tokens, not " + positions);
        }
        length = 0; // until the copy is through, the slot holds nothing it can vouch for
        engine.copyPrefix(other.slot, slot, positions);
        evaluated(other.held, 0, positions);
    }

    /**
     * Generates after {@code prompt}: evaluates the part of it the slot does not hold, {@link #PREFILL_CHUNK} tokens
     * at a time, then samples and evaluates one token at a time until the settings, the listener or the context
     * end it. {@link Generation.Settings#cancelled} is asked between the prompt's chunks too, so that a deadline
     * or a cancel also ends a long prefill (with no tokens, and the slot holding what was evaluated).
     *
     * @throws IllegalArgumentException when the prompt is empty or leaves no room in the context
     */
    public Generation.Result generate(int[] prompt, Generation.Settings settings, Generation.Listener listener) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt is empty");
        }
        if (prompt.length >= contextLength()) {
            throw new IllegalArgumentException("the prompt has " + prompt.length
                    + " tokens, which leaves no room in the context of " + contextLength());
        }
        long start = System.nanoTime();
        Generation generation = new Generation(engine.tokenizer(), settings, listener, contextLength() - prompt.length);
        int reused = heldPrefix(prompt);
        length = reused;
        float[] logits = null;
        for (int from = reused; from < prompt.length; from += PREFILL_CHUNK) {
            if (from > reused && generation.cancelledBeforeNextChunk()) {
                return generation.result(prompt.length, from - reused, System.nanoTime() - start, 0, 0);
            }
            logits = append(Arrays.copyOfRange(prompt, from, Math.min(prompt.length, from + PREFILL_CHUNK)));
        }
        int prefilled = prompt.length - reused;
        int token = generation.next(logits);
        long firstToken = System.nanoTime();
        int decoded = 0;
        int[] one = new int[1];
        while (token >= 0) {
            one[0] = token;
            logits = append(one);
            decoded++;
            token = generation.next(logits);
        }
        return generation.result(prompt.length, prefilled, firstToken - start, decoded, System.nanoTime() - firstToken);
    }

    /** Gives the slot back to the engine. */
    @Override
    public void close() {
        closed = true;
        engine.release(this);
    }
}
