package dev.tinyedge.board;

import dev.tinyedge.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Works out, before a model is loaded, how much memory it will take on a profile at a context length,
 * and refuses with what would fit instead: a shorter context, a smaller quantization, a bigger board.
 *
 * <p>The JVM's share was measured, not derived: see bench/RESULTS-planner.md for the runs this
 * planner was checked against (within 10% of the peak RSS of {@code tinyedge bench}).
 */
public final class MemoryPlanner {
    /** RSS of the JVM running tinyedge with a tiny model: libjvm, CDS archive, metaspace, JIT code, stacks. */
    static final long JVM_BASELINE_BYTES = 96L << 20;
    /** Heap the runtime needs besides KV cache and scratch: tokenizer vocabulary, MQTT client, JSON, garbage. */
    static final long HEAP_BASELINE_BYTES = 64L << 20;
    /** Tokens a prefill step evaluates at once; scratch grows with it. */
    static final int PREFILL_BATCH = 32;
    /** Context lengths a suggestion steps down through. */
    static final int CONTEXT_STEP = 256;

    private final List<Profile> profiles;

    /** @param catalog where to look for a bigger board to suggest; may be empty */
    public MemoryPlanner(List<Profile> catalog) {
        this.profiles = List.copyOf(catalog);
    }

    /**
     * @param contextLength      0 for the profile's context length, capped at the model's
     * @param memAvailableBytes  MemAvailable of this machine when the plan is for it, else -1
     */
    public MemoryPlan plan(ModelShape model, Profile profile, int contextLength, long memAvailableBytes) {
        int ctx = contextLength > 0 ? contextLength : Math.min(profile.model().contextLength(), model.trainedContextLength());
        KvCacheType kv = profile.model().kvCacheType();
        Sizes sizes = sizes(model, ctx, kv);
        long budget = profile.memory().budgetBytes();
        long available = memAvailableBytes < 0 ? -1 : Math.max(0, memAvailableBytes - profile.memory().osReserveBytes());
        long limit = available < 0 ? budget : Math.min(budget, available);
        boolean fits = sizes.total() <= limit;
        long heapMb = roundUp(sizes.heap() + sizes.heap() / 4, 16);
        long memoryMaxMb = roundUp(sizes.total() + sizes.total() / 8, 64);
        String verdict = fits
                ? "fits " + profile.name() + ": needs " + MemoryPlan.mib(sizes.total()) + " of " + limitText(budget, available)
                : "does not fit " + profile.name() + " at context " + ctx + ": needs " + MemoryPlan.mib(sizes.total())
                        + ", " + limitText(budget, available) + suggestions(model, profile, ctx, kv, limit);
        return new MemoryPlan(profile.name(), ctx, kv, model.weightBytes(), sizes.kvCache(), sizes.scratch(),
                sizes.jvm(), sizes.total(), budget, available, sizes.heap(), heapMb, memoryMaxMb, fits, verdict);
    }

    /** The parts of a plan; the KV cache and scratch live on the Java heap. */
    private record Sizes(long weights, long kvCache, long scratch, long jvm) {
        long total() {
            return weights + kvCache + scratch + jvm;
        }

        long heap() {
            return kvCache + scratch + HEAP_BASELINE_BYTES;
        }
    }

    private static Sizes sizes(ModelShape m, int ctx, KvCacheType kv) {
        long kvCache = 2L * m.layers() * ctx * m.kvHeads() * m.headDim() * kv.bytes;
        long kvDim = (long) m.kvHeads() * m.headDim();
        // per evaluated position: residual, normed input, attention output, query (4 x dim), key and value,
        // the two FFN hidden vectors, and one row of attention scores per head
        long perPosition = 4L * (4L * m.embeddingLength() + 2 * kvDim + 2L * m.feedForwardLength() + (long) m.heads() * ctx);
        long scratch = PREFILL_BATCH * perPosition + 4L * m.vocabSize();
        return new Sizes(m.weightBytes(), kvCache, scratch, JVM_BASELINE_BYTES);
    }

    private static String limitText(long budget, long available) {
        return available >= 0 && available < budget
                ? MemoryPlan.mib(available) + " available (MemAvailable less the OS reserve)"
                : "the budget is " + MemoryPlan.mib(budget);
    }

    /** "; would fit: --ctx 1024, or a Q4_0 file (...), or profile raspberry-pi-4-2gb" or a plain refusal. */
    private String suggestions(ModelShape model, Profile profile, int ctx, KvCacheType kv, long limit) {
        List<String> options = new ArrayList<>();
        for (int shorter = (ctx - 1) / CONTEXT_STEP * CONTEXT_STEP; shorter >= CONTEXT_STEP; shorter -= CONTEXT_STEP) {
            if (sizes(model, shorter, kv).total() <= limit) {
                options.add("--ctx " + shorter);
                break;
            }
        }
        if (kv == KvCacheType.F32 && sizes(model, ctx, KvCacheType.F16).total() <= limit) {
            options.add("kv_cache_type = \"f16\" in the profile");
        }
        long q40Bytes = GgmlType.Q4_0.byteSize(model.weightElements() / GgmlType.Q4_0.blockSize * GgmlType.Q4_0.blockSize);
        if (q40Bytes < model.weightBytes()) {
            ModelShape q40 = new ModelShape(model.name(), model.layers(), model.embeddingLength(), model.feedForwardLength(),
                    model.heads(), model.kvHeads(), model.vocabSize(), model.trainedContextLength(), q40Bytes,
                    model.weightElements(), GgmlType.Q4_0);
            if (sizes(q40, ctx, kv).total() <= limit) {
                options.add("a Q4_0 file (tinyedge quantize IN.gguf OUT.gguf --type q4_0)");
            }
        }
        long needed = sizes(model, ctx, kv).total();
        Optional<Profile> bigger = profiles.stream()
                .filter(p -> !p.name().equals(profile.name()) && sameBoardFamily(p, profile))
                .filter(p -> p.memory().budgetBytes() >= needed)
                .min(Comparator.comparingLong(p -> p.memory().budgetMb()));
        bigger.ifPresent(p -> options.add("profile " + p.name() + " (a board with more memory)"));
        return options.isEmpty() ? "; nothing smaller of this model fits: use a smaller model"
                : "; would fit: " + String.join(", or ", options);
    }

    private static boolean sameBoardFamily(Profile a, Profile b) {
        return a.match().arch().equals(b.match().arch()) && a.match().models().equals(b.match().models());
    }

    private static long roundUp(long bytes, long stepMb) {
        long mb = (bytes + (1L << 20) - 1) >> 20;
        return (mb + stepMb - 1) / stepMb * stepMb;
    }
}
