package dev.tinyedge.engine;

import dev.tinyedge.board.KvCacheType;

/**
 * How to run a model: context length (0 = the model's), threads (0 = one per available processor), backend
 * ("cpu" or "opencl"), sequences the KV cache holds at once ({@code parallel}, at least 1) and the KV cache's
 * element type.
 */
public record EngineOptions(int contextLength, int threads, String backend, int parallel, KvCacheType kvCache) {
    public EngineOptions {
        if (contextLength < 0 || threads < 0 || backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("context length and threads must be >= 0 and a backend named");
        }
        if (parallel < 1 || kvCache == null) {
            throw new IllegalArgumentException("parallel must be at least 1 and a KV cache type named");
        }
    }

    /** One sequence at a time, an f32 KV cache. */
    public EngineOptions(int contextLength, int threads, String backend) {
        this(contextLength, threads, backend, 1, KvCacheType.F32);
    }

    /** The thread count to use: the one asked for, or one per available processor. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, "cpu");
    }
}
