package dev.tinyedge.model;

import java.util.Arrays;

/**
 * What the KV caches of a model's sliding-window layers hold, per sequence slot: those layers keep only the
 * positions a window can still see (plus a batch) in a ring, so a position p lives at index p % length. The ring
 * remembers which position each index holds and every token each slot evaluated, so that a rewind to a prefix
 * whose window later positions have overwritten can be evaluated again. Without a window (or with a context no
 * longer than the ring) every layer holds the whole context and nothing wraps. One for the CPU pass and the
 * OpenCL backend, which evaluate the same way.
 */
public final class WindowRing {
    private final ModelConfig config;
    private final int contextLength;
    private final int length;
    /** Per slot, the position each index holds (-1: none yet); null when nothing wraps. */
    private final int[][] positions;
    /** Per slot, the token evaluated at each position. */
    private final int[][] history;

    public WindowRing(ModelConfig config, int contextLength, int maxBatch, int slots) {
        this.config = config;
        this.contextLength = contextLength;
        this.length = Math.min(contextLength, config.window().size() + maxBatch - 1);
        this.positions = length < contextLength ? new int[slots][length] : null;
        if (positions != null) {
            for (int[] ring : positions) {
                Arrays.fill(ring, -1);
            }
        }
        this.history = new int[slots][contextLength];
    }

    /** Positions layer {@code layer}'s cache holds: the ring's length on a local layer, else the context. */
    public int cachedPositions(int layer) {
        return config.isLocal(layer) ? length : contextLength;
    }

    /** Whether the local layers' caches wrap around (else every position has its own entry). */
    public boolean wraps() {
        return positions != null;
    }

    /** Whether the slot still holds every position below {@code startPos} that a window can see from it. */
    public boolean holds(int slot, int startPos) {
        if (positions == null) {
            return true;
        }
        for (int p = Math.max(0, startPos - config.window().size() + 1); p < startPos; p++) {
            if (positions[slot][p % length] != p) {
                return false;
            }
        }
        return true;
    }

    /** The tokens the slot evaluated, by position: what a rebuild evaluates again. */
    public int[] history(int slot) {
        return history[slot];
    }

    /** Notes that the slot is about to evaluate tokens[from, from + count) at positions startPos... */
    public void evaluating(int slot, int[] tokens, int from, int count, int startPos) {
        System.arraycopy(tokens, from, history[slot], startPos, count);
    }

    /** Notes that the slot's local layers now hold {@code position} (after its batch went through them). */
    public void stored(int slot, int position) {
        if (positions != null) {
            positions[slot][position % length] = position;
        }
    }

    /** Slot {@code to} now holds what slot {@code from} holds at positions [0, prefix) (its caches were copied). */
    public void copyPrefix(int from, int to, int prefix) {
        if (positions != null) {
            for (int i = 0; i < length; i++) {
                int position = positions[from][i];
                positions[to][i] = position < prefix ? position : -1;
            }
        }
        System.arraycopy(history[from], 0, history[to], 0, prefix);
    }
}
