package dev.tinyedge.backend;

import dev.tinyedge.kernels.KernelProvider;
import dev.tinyedge.model.ForwardPass;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.Simd;

import java.util.ArrayList;
import java.util.List;

/** The forward pass on the CPU: the kernels {@link dev.tinyedge.kernels.KernelProvider} chose, rows split across a fixed pool of threads. */
public final class CpuBackend implements Backend {
    public static final String NAME = "cpu";
    /**
     * Tokens of the warm-up batch: two float vectors of tokens and one more, so that both batched kernels
     * (a pair of token vectors, and a single one) are compiled (33 at 512 bits, 9 on a 128-bit NEON board).
     */
    private static final int WARM_UP_BATCH = 2 * Simd.FLOATS.length() + 1;

    private final WorkerPool pool;
    private final ForwardPass forward;

    public CpuBackend(ModelWeights model, int contextLength, int threads) {
        this(model, contextLength, threads, 1, false);
    }

    /** @param slots sequences the KV cache holds at once; @param halfPrecisionCache keys and values as fp16 */
    public CpuBackend(ModelWeights model, int contextLength, int threads, int slots, boolean halfPrecisionCache) {
        this.pool = new WorkerPool(threads);
        try {
            this.forward = new ForwardPass(model, contextLength, slots, halfPrecisionCache, pool);
            warmUp(model);
        } catch (RuntimeException | OutOfMemoryError e) {
            pool.close();
            throw e;
        }
    }

    /**
     * Runs a short batch and a single token through the model, so that the JIT compiles the batched and the
     * single-vector Vector API kernels before the first request: interpreted, they run a hundred times
     * slower, and the first request would otherwise pay for the compilation (bench/RESULTS.md, "Start-up and
     * warm-up"). Native kernels need no compiling: where they compute every product, one token suffices to get
     * the rest of the pass (attention, norms) under way. The cache entries written here are overwritten by the
     * first request, which starts at position 0.
     */
    private void warmUp(ModelWeights model) {
        if (anyCompiledAtRunTime(forward.kernels(), model)) {
            int batch = Math.min(WARM_UP_BATCH, forward.contextLength());
            forward.forward(new int[batch], batch, 0);
        }
        forward.forward(new int[1], 1, 0);
    }

    private static boolean anyCompiledAtRunTime(KernelProvider kernels, ModelWeights model) {
        List<FloatTensor> weights = new ArrayList<>(List.of(model.output()));
        for (ModelWeights.Layer l : model.layers()) {
            weights.addAll(List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.gate(), l.up(), l.down()));
        }
        return weights.stream().anyMatch(w -> kernels.kernel(w.type()).compiledAtRunTime());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return NAME + " (" + pool.threads() + (pool.threads() == 1 ? " thread, " : " threads, ") + forward.kernels().description()
                + " kernels, " + (forward.halfPrecision() ? "f16" : "f32") + " KV cache"
                + (forward.slots() == 1 ? ")" : " of " + forward.slots() + " sequences)");
    }

    @Override
    public int contextLength() {
        return forward.contextLength();
    }

    @Override
    public float[] forward(int[] tokens, int count, int startPos) {
        return forward.forward(tokens, count, startPos);
    }

    @Override
    public int slots() {
        return forward.slots();
    }

    @Override
    public float[] forward(int slot, int[] tokens, int count, int startPos) {
        return forward.forward(slot, tokens, count, startPos);
    }

    @Override
    public float[] forward(Batch step) {
        return forward.forward(step);
    }

    @Override
    public void copyPrefix(int from, int to, int length) {
        forward.copyPrefix(from, to, length);
    }

    @Override
    public int maxBatch() {
        return forward.maxBatch();
    }

    @Override
    public void limitThreads(int threads) {
        pool.limit(threads);
    }

    @Override
    public void close() {
        pool.close();
    }
}
