package dev.tinyedge.backend;

import java.util.Arrays;

/**
 * One step of continuous batching: for each of several sequences, each in its own KV-cache slot, the tokens to
 * evaluate next at the positions after what the slot holds (one token for a sequence that decodes, a chunk of
 * prompt for one being admitted). A backend evaluates them in one pass, every matrix product taking all the
 * step's tokens at once, and returns the logits of each sequence's last token. Reused from step to step.
 */
public final class Batch {
    private final int[] tokens;
    private final int[] slots;
    private final int[] starts;
    private final int[] counts;
    private final int[] offsets;
    private int segments;
    private int size;

    /** @param maxTokens tokens one step may hold in all; @param maxSegments sequences one step may hold */
    public Batch(int maxTokens, int maxSegments) {
        tokens = new int[maxTokens];
        slots = new int[maxSegments];
        starts = new int[maxSegments];
        counts = new int[maxSegments];
        offsets = new int[maxSegments];
    }

    public void clear() {
        segments = 0;
        size = 0;
    }

    /** Adds source[from, from + count) for {@code slot}, at positions {@code startPos}.. of that slot. */
    public void add(int slot, int[] source, int from, int count, int startPos) {
        if (count < 1 || size + count > tokens.length || segments == slots.length) {
            throw new IllegalArgumentException("a step holds at most " + tokens.length + " tokens of "
                    + slots.length + " sequences; cannot add " + count + " more");
        }
        for (int s = 0; s < segments; s++) {
            if (slots[s] == slot) {
                throw new IllegalArgumentException("slot " + slot + " is in the step twice");
            }
        }
        System.arraycopy(source, from, tokens, size, count);
        slots[segments] = slot;
        starts[segments] = startPos;
        counts[segments] = count;
        offsets[segments] = size;
        segments++;
        size += count;
    }

    /** Sequences in the step. */
    public int segments() {
        return segments;
    }

    /** Tokens in the step, all sequences together. */
    public int size() {
        return size;
    }

    public int maxTokens() {
        return tokens.length;
    }

    public int slot(int segment) {
        return slots[segment];
    }

    public int start(int segment) {
        return starts[segment];
    }

    public int count(int segment) {
        return counts[segment];
    }

    /** Where the segment's tokens start in {@link #tokens()}. */
    public int offset(int segment) {
        return offsets[segment];
    }

    /** The step's tokens, segment after segment; valid up to {@link #size()}. */
    public int[] tokens() {
        return tokens;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Batch[");
        for (int i = 0; i < segments; i++) {
            s.append(i == 0 ? "" : ", ").append("slot ").append(slots[i]).append(": ")
                    .append(Arrays.toString(Arrays.copyOfRange(tokens, offsets[i], offsets[i] + counts[i])))
                    .append(" at ").append(starts[i]);
        }
        return s.append(']').toString();
    }
}
