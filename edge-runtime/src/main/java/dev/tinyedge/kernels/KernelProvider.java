package dev.tinyedge.kernels;

import dev.tinyedge.tensor.GgmlType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Consumer;

/**
 * Who computes the matrix products of the forward pass, chosen once at start-up (the model of Lucene's
 * VectorizationProvider): the native library's int8 kernels for the CPU's best tier where this build has
 * one for the platform and the CPU has its instructions, else the Vector API kernels, which cover every
 * type and are the reference the tests hold the native ones to.
 *
 * <p>{@code -Dtinyedge.kernels=java} forces the Vector API kernels; {@code native} (the default) the best
 * native tier, falling back to Java with one log line when there is none; {@code native:TIER} (e.g.
 * {@code native:avx2}) one tier, for tests and comparisons. The log names what runs:
 * {@code kernels: native avx512-vnni} or {@code kernels: java 256-bit (...why)}.
 */
public interface KernelProvider {

    /** What runs, for logs and status: "native avx512-vnni", "java 128-bit". */
    String description();

    /** The kernel for products with weights of this type (every supported type has one). */
    MatrixKernel kernel(GgmlType type);

    /** Input for products of up to maxBatch vectors of at most maxCols elements. */
    ProductInput newInput(int maxBatch, int maxCols);

    /** Floats of per-thread scratch that {@link MatrixKernel#batchRows} needs for rows of cols. */
    default int scratchSize(int cols) {
        return JavaKernels.INSTANCE.scratchSize(cols);
    }

    /** A native library's kernels, found with {@link ServiceLoader}. */
    interface Factory {
        /**
         * This CPU's best tier, or {@code tier} if given ("avx2", "i8mm"...); throws with the reason (no library
         * for this platform, one that does not load, a CPU without the tier's instructions) when it cannot.
         */
        KernelProvider load(String tier) throws Exception;
    }

    /** The provider for this process, chosen on first use from {@code -Dtinyedge.kernels}. */
    static KernelProvider get() {
        return Selected.PROVIDER;
    }

    /**
     * The provider that {@code request} ("java", "native" or "native:TIER") selects from these factories,
     * saying in one line to {@code log} what runs and, when it falls back to Java, why.
     */
    static KernelProvider select(String request, Iterable<Factory> factories, Consumer<String> log) {
        String java = JavaKernels.INSTANCE.description();
        if (request.equals("java")) {
            log.accept("kernels: " + java + " (-Dtinyedge.kernels=java)");
            return JavaKernels.INSTANCE;
        }
        String tier;
        if (request.equals("native")) {
            tier = null;
        } else if (request.startsWith("native:") && request.length() > "native:".length()) {
            tier = request.substring("native:".length());
        } else {
            log.accept("kernels: " + java + " (-Dtinyedge.kernels=" + request + " is none of java, native, native:TIER)");
            return JavaKernels.INSTANCE;
        }
        List<String> reasons = new ArrayList<>();
        for (Factory factory : factories) {
            try {
                KernelProvider provider = factory.load(tier);
                log.accept("kernels: " + provider.description());
                return provider;
            } catch (Exception | LinkageError e) {
                reasons.add(e.getMessage() != null ? e.getMessage() : e.toString());
            }
        }
        log.accept("kernels: " + java + " (" + (reasons.isEmpty() ? "no native kernel library in this build" : String.join("; ", reasons)) + ")");
        return JavaKernels.INSTANCE;
    }

    /** Holds the selection, made when first asked for. */
    final class Selected {
        private static final Logger log = LoggerFactory.getLogger(KernelProvider.class);
        static final KernelProvider PROVIDER = select(System.getProperty("tinyedge.kernels", "native"),
                ServiceLoader.load(Factory.class), log::info);

        private Selected() {
        }
    }
}
