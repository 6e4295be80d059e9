package dev.tinyedge.backend;

import dev.tinyedge.model.ModelWeights;

import java.io.IOException;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Where the forward pass runs. A backend holds what it needs of the model's weights (the CPU reads them in
 * place; a GPU backend uploads them) and its own KV cache, and evaluates batches of tokens into logits.
 * The KV cache has {@link #slots()} slots, one sequence each; a backend with one slot evaluates only slot 0.
 * Not thread-safe: one forward pass at a time.
 */
public interface Backend extends AutoCloseable {

    /** Short name, as given to {@code --backend}: "cpu", "opencl". */
    String name();

    /** For logs and status, e.g. "cpu (2 threads, native dotprod kernels)". */
    String description();

    int contextLength();

    /**
     * Evaluates tokens[0..count) at positions startPos.. (cache entries at positions >= startPos are
     * overwritten, those below are kept) and returns the logits of the last token, in a buffer that the
     * next call reuses.
     */
    float[] forward(int[] tokens, int count, int startPos);

    /** Sequences the KV cache holds at once (continuous batching); 1 where the backend keeps one. */
    default int slots() {
        return 1;
    }

    /** {@link #forward(int[], int, int)} in the KV-cache slot {@code slot}. */
    default float[] forward(int slot, int[] tokens, int count, int startPos) {
        requireSlotZero(slot);
        return forward(tokens, count, startPos);
    }

    /**
     * Evaluates one step of several sequences in one pass (see {@link Batch}) and returns each one's logits of
     * its last token, sequence s's at [s * vocabulary, (s+1) * vocabulary), in a buffer the next call reuses.
     */
    default float[] forward(Batch step) {
        if (step.segments() != 1) {
            throw new IllegalArgumentException("this backend's KV cache has one slot: a step holds one sequence");
        }
        requireSlotZero(step.slot(0));
        return forward(java.util.Arrays.copyOfRange(step.tokens(), 0, step.count(0)), step.count(0), step.start(0));
    }

    /** Makes slot {@code to} hold what slot {@code from} holds at positions [0, length). */
    default void copyPrefix(int from, int to, int length) {
        requireSlotZero(from);
        requireSlotZero(to);
    }

    /** Tokens one step may hold in all. */
    default int maxBatch() {
        return 64;
    }

    private static void requireSlotZero(int slot) {
        if (slot != 0) {
            throw new IllegalArgumentException("this backend's KV cache has one slot, not slot " + slot);
        }
    }

    /**
     * Uses at most {@code threads} CPU threads from the next pass on: a board above its soft temperature limit
     * throttles. Backends that do not compute on the CPU have nothing to limit.
     */
    default void limitThreads(int threads) {
    }

    /**
     * For {@code bench}: the bytes of weights one decode step reads, and the bandwidth of the memory they are read
     * from, measured now by a copy. Empty where the backend does not measure it.
     */
    default Optional<MemoryTraffic> memoryTraffic() {
        return Optional.empty();
    }

    /** Bytes of weights a decode step reads; bytes a copy moved per second (read plus written). */
    record MemoryTraffic(long weightBytesPerToken, double copyBytesPerSecond, String copyMethod) {
    }

    @Override
    void close();

    /** Makes backends of one name; backends other than "cpu" register one with {@link ServiceLoader}. */
    interface Provider {
        String name();

        Backend load(ModelWeights model, int contextLength, int threads) throws IOException;
    }

    /**
     * The backend called {@code name}; the CPU one with {@code slots} KV-cache slots of fp16 or floats. Other
     * backends keep one slot of their own kind: {@link #slots()} says what was made.
     */
    static Backend load(String name, ModelWeights model, int contextLength, int threads, int slots,
                        boolean halfPrecisionCache) throws IOException {
        if (name.equals(CpuBackend.NAME)) {
            return new CpuBackend(model, contextLength, threads, slots, halfPrecisionCache);
        }
        return load(name, model, contextLength, threads);
    }

    /** The backend called {@code name} for this model, with this many CPU threads (at least 1). */
    static Backend load(String name, ModelWeights model, int contextLength, int threads) throws IOException {
        if (name.equals(CpuBackend.NAME)) {
            return new CpuBackend(model, contextLength, threads);
        }
        for (Provider provider : ServiceLoader.load(Provider.class)) {
            if (provider.name().equals(name)) {
                return provider.load(model, contextLength, threads);
            }
        }
        throw new IllegalArgumentException("backend '" + name + "' is not available in this build (use --backend cpu)");
    }
}
