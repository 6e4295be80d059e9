package dev.tinyedge.engine;

/**
 * How to run a model: context length (0 = the model's), threads (0 = one per available processor) and
 * backend ("cpu" or "opencl").
 */
public record EngineOptions(int contextLength, int threads, String backend) {
    public EngineOptions {
        if (contextLength < 0 || threads < 0 || backend == null || backend.isBlank()) {
            throw new IllegalArgumentException("context length and threads must be >= 0 and a backend named");
        }
    }

    /** The thread count to use: the one asked for, or one per available processor. */
    public int resolvedThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    public static EngineOptions defaults() {
        return new EngineOptions(0, 0, "cpu");
    }
}
