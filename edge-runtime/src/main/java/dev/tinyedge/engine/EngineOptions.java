package dev.tinyedge.engine;

import dev.tinyedge.board.KvCacheType;

/**
 * How to run a model: context length (0 = the model's), threads (0 = one per available processor), backend
 * ("cpu" or "opencl"), sequences the KV cache holds at once ({@code parallel}, at least 1) and the KV cache's
 * element type (null: the backend's default, f32 on the CPU, fp16 on OpenCL unless -Dtinyedge.opencl.kv says).
 */
public record EngineOptions(int contextLength, int threads, String backend, int parallel, KvCacheType kvCache) {
    public EngineOptions {
        if (contextLength < 0 || threads < 0 || backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("context length and threads must be >= 0 and a backend named");
        }
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be at least 1, got " + parallel);
        }
    }

    /** One sequence at a time, the backend's default KV cache. */
    public EngineOptions(int contextLength, int threads, String backend) {
        this(contextLength, threads, backend, 1, null);
    }

    /** The thread count to use: the one asked for, or one per available processor. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, "cpu");
    }
}
