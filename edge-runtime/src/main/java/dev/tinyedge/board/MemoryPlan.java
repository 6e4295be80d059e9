package dev.tinyedge.board;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import java.util.Locale;

/**
 * Where a model's memory goes on one profile at one context length, and whether it fits. All sizes in
 * bytes; a record so that {@code inspect --json} can print it as it is (keys in snake_case).
 *
 * @param backend        the profile's backend ("cpu" or "opencl"), which runs the model
 * @param weightsBytes   the tensors, memory-mapped: their page cache counts in the process's RSS once read,
 *                       and every token reads all of them
 * @param parallel       sequences the KV cache holds at once (the daemon's {@code service.parallel})
 * @param kvCacheBytes   keys and values for every layer and position, of every sequence
 * @param scratchBytes   activations and logits of a forward pass
 * @param jvmBytes       the JVM itself: code, metaspace, code cache, thread stacks and the heap's baseline
 * @param totalBytes     the sum: what the process's peak RSS should be
 * @param budgetBytes    the profile's budget
 * @param availableBytes what the machine can give now (MemAvailable less the profile's OS reserve), or -1
 *                       when the plan is not for this machine
 * @param heapBytes      the Java heap the process needs (-Xmx at least this; see {@link #recommendedHeapMb})
 * @param verdict        one line: fits, or does not and what would
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record MemoryPlan(String profile, String backend, int contextLength, int parallel, KvCacheType kvCacheType, long weightsBytes,
                         long kvCacheBytes, long scratchBytes, long jvmBytes, long totalBytes, long budgetBytes,
                         long availableBytes, long heapBytes, long recommendedHeapMb, long recommendedMemoryMaxMb,
                         boolean fits, String verdict) {

    /** The lines {@code tinyedge inspect} prints. */
    public String describe() {
        return String.format(Locale.ROOT, """
                memory plan (profile %s, backend %s, context %d, KV cache %s, %d %s):
                  weights (mapped)  %8s
                  KV cache          %8s
                  scratch           %8s
                  JVM               %8s
                  total             %8s  (budget %s%s)
                  JVM heap          -Xmx%dm (TINYEDGE_HEAP=%dm); systemd MemoryMax=%dM
                %s
                """, profile, backend, contextLength, kvCacheType, parallel, parallel == 1 ? "sequence" : "sequences at once", mib(weightsBytes), mib(kvCacheBytes), mib(scratchBytes),
                mib(jvmBytes), mib(totalBytes), mib(budgetBytes),
                availableBytes < 0 ? "" : ", available " + mib(availableBytes),
                recommendedHeapMb, recommendedHeapMb, recommendedMemoryMaxMb, verdict);
    }

    /** For the daemon before it loads the model. @throws MemoryPlanException with the verdict */
    public void requireFits() {
        if (!fits) {
            throw new MemoryPlanException(verdict);
        }
    }

    /** For the daemon: the JVM's -Xmx ({@code Runtime.maxMemory()}) must hold what the plan puts on the heap. */
    public void requireHeap(long maxHeapBytes) {
        if (maxHeapBytes < heapBytes) {
            throw new MemoryPlanException("the JVM heap (" + mib(maxHeapBytes) + ") is smaller than the "
                    + mib(heapBytes) + " this model needs at context " + contextLength
                    + ": set TINYEDGE_HEAP=" + recommendedHeapMb + "m");
        }
    }

    static String mib(long bytes) {
        return (bytes + (1L << 19)) / (1L << 20) + " MiB";
    }

    /** A plan that does not fit, or a heap too small for it; the message is one line. */
    public static final class MemoryPlanException extends RuntimeException {
        public MemoryPlanException(String message) {
            super(message);
        }
    }
}
