package dev.tinyedge.backend;

import dev.tinyedge.model.ModelWeights;

import java.io.IOException;
import java.util.Optional;
import java.util.ServiceLoader;

/**
 * Where the forward pass runs. A backend holds what it needs of the model's weights (the CPU reads them in
 * place; a GPU backend uploads them) and its own KV cache, and evaluates batches of tokens into logits.
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
