package dev.tinyedge.backend;

import dev.tinyedge.model.LlamaForward;
import dev.tinyedge.model.LlamaModel;
import dev.tinyedge.tensor.Simd;

/** The forward pass on the CPU: Vector API kernels, rows split across a fixed pool of threads. */
public final class CpuBackend implements Backend {
    public static final String NAME = "cpu";

    private final WorkerPool pool;
    private final LlamaForward forward;

    public CpuBackend(LlamaModel model, int contextLength, int threads) {
        this.pool = new WorkerPool(threads);
        try {
            this.forward = new LlamaForward(model, contextLength, pool);
        } catch (RuntimeException | OutOfMemoryError e) {
            pool.close();
            throw e;
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return NAME + " (" + pool.threads() + (pool.threads() == 1 ? " thread, " : " threads, ") + Simd.vectorBits() + "-bit vectors)";
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
    public void close() {
        pool.close();
    }
}
