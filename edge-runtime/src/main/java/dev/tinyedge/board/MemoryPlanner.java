package dev.tinyedge.board;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.tensor.GgmlType;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Works out, before a model is loaded, how much memory it will take on a profile at a context length,
 * and refuses with what would fit instead: a shorter context, a smaller quantization, a bigger board.
 *
 * <p>The sizes follow the CPU engine: weights read in place from the mapping (their page cache counts
 * in the process's RSS, and every token reads all of them), an f32 or f16 KV cache per sequence served at once
 * (of the window only, on the sliding-window layers of Gemma 3) and f32 scratch buffers on the Java heap. The JVM's share was measured, not derived (bench/RESULTS.md ("Memory planner vs measured")): the runs this
 * planner was checked against came within 10% of the peak RSS of the 620 MB TinyLlama-shape model.
 */
public final class MemoryPlanner {
    /**
     * Peak RSS of the JVM running the tiny synth model with -Xmx64m: libjvm, CDS archive, metaspace, JIT
     * code, thread stacks, and a 64 MiB heap holding the tokenizer. Measured 93-99 MiB (bench/RESULTS.md ("Memory planner vs measured")).
     */
    static final long JVM_BASELINE_BYTES = 96L << 20;
    /** The heap the baseline above ran with. */
    static final long BASELINE_HEAP_BYTES = 64L << 20;
    /** Heap the daemon needs besides KV cache and scratch: tokenizer, MQTT client, request queue, dedup store. */
    static final long HEAP_BASELINE_BYTES = 64L << 20;
    /**
     * Share of -Xmx that SerialGC's eden takes (young = 1/3 of the heap, eden = 8/10 of young): allocation
     * sweeps through all of it between collections, so all of it ends up resident.
     */
    static final double EDEN_SHARE = 4.0 / 15;
    /** Tokens the CPU engine's prefill evaluates at once (ForwardPass.MAX_BATCH); its buffers scale with it. */
    static final int PREFILL_BATCH = 64;
    /** Context lengths a suggestion steps down through. */
    static final int CONTEXT_STEP = 256;

    private final List<Profile> profiles;

    /** @param catalog where to look for a bigger board to suggest; may be empty */
    public MemoryPlanner(List<Profile> catalog) {
        this.profiles = List.copyOf(catalog);
    }

    /**
     * The plan {@code tinyedge inspect} shows: the profile named by {@code profileSpec} (a name, a .toml
     * path, or "auto"/null to detect this board, quietly: the plan names the profile), checked against
     * this machine's MemAvailable too when the profile was detected, since only then is the plan for
     * this machine.
     *
     * @param contextLength 0 for the profile's context length, capped at the model's
     */
    public static MemoryPlan planFor(GgufFile model, String profileSpec, int contextLength) throws GgufFormatException {
        ProfileCatalog catalog = ProfileCatalog.load();
        boolean here = profileSpec == null || profileSpec.equals(ProfileCatalog.AUTO);
        BoardFacts facts = here ? BoardFacts.ofThisMachine() : null;
        Profile profile = here ? catalog.detection(facts).profile() : catalog.select(profileSpec, null);
        return new MemoryPlanner(catalog.all()).plan(ModelShape.of(model), profile, contextLength,
                here ? facts.memAvailableBytes() : -1);
    }

    /**
     * @param contextLength      0 for the profile's context length, capped at the model's
     * @param memAvailableBytes  MemAvailable of this machine when the plan is for it, else -1
     */
    public MemoryPlan plan(ModelShape model, Profile profile, int contextLength, long memAvailableBytes) {
        return plan(model, profile, contextLength, memAvailableBytes, profile.service().parallelOrDefault());
    }

    /** @param parallel sequences served at once, each with a KV cache of its own */
    public MemoryPlan plan(ModelShape model, Profile profile, int contextLength, long memAvailableBytes, int parallel) {
        if (parallel < 1) {
            throw new IllegalArgumentException("parallel must be at least 1, got " + parallel);
        }
        int ctx = contextLength > 0 ? contextLength : Math.min(profile.model().contextLength(), model.trainedContextLength());
        KvCacheType kv = profile.model().kvCacheType();
        int threads = profile.compute().threadsFor(Runtime.getRuntime().availableProcessors());
        Sizes sizes = sizes(model, ctx, kv, threads, parallel);
        long budget = profile.memory().budgetBytes();
        long available = memAvailableBytes < 0 ? -1 : Math.max(0, memAvailableBytes - profile.memory().osReserveBytes());
        long limit = available < 0 ? budget : Math.min(budget, available);
        boolean fits = sizes.total() <= limit;
        long memoryMaxMb = roundUpMb(sizes.total() + sizes.total() / 8, 64);
        String verdict = fits
                ? "fits " + profile.name() + ": needs " + MemoryPlan.mib(sizes.total()) + " of " + limitText(budget, available)
                : "does not fit " + profile.name() + " at context " + ctx
                        + (parallel == 1 ? "" : " with " + parallel + " sequences at once") + ": needs "
                        + MemoryPlan.mib(sizes.total()) + ", over " + limitText(budget, available)
                        + suggestions(model, profile, ctx, kv, threads, parallel, limit);
        return new MemoryPlan(profile.name(), profile.compute().backend(), ctx, parallel, kv, model.weightBytes(), sizes.kvCache(), sizes.scratch(),
                sizes.jvm(), sizes.total(), budget, available, sizes.heap(), sizes.heapMaxMb(), memoryMaxMb, fits, verdict);
    }

    /** The parts of a plan; the KV cache and scratch live on the Java heap. */
    private record Sizes(long weights, long kvCache, long scratch) {
        long heap() {
            return kvCache + scratch + HEAP_BASELINE_BYTES;
        }

        /** -Xmx: the heap with a quarter to spare, so collections stay rare. */
        long heapMaxMb() {
            return roundUpMb(heap() + heap() / 4, 16);
        }

        /** The measured baseline, plus the eden a bigger heap sweeps through. */
        long jvm() {
            return JVM_BASELINE_BYTES + Math.max(0, (long) (EDEN_SHARE * ((heapMaxMb() << 20) - BASELINE_HEAP_BYTES)));
        }

        long total() {
            return weights + kvCache + scratch + jvm();
        }
    }

    private static Sizes sizes(ModelShape m, int ctx, KvCacheType kv, int threads, int parallel) {
        int batch = Math.min(PREFILL_BATCH, ctx);
        // a local (sliding-window) layer keeps a ring of the positions its window can see while a batch is added
        long cachedPositions = (long) (m.layers() - m.localLayers()) * ctx
                + (long) m.localLayers() * Math.min(ctx, m.slidingWindow() + batch - 1);
        long kvCache = 2L * cachedPositions * m.kvHeads() * m.headDim() * kv.bytes * parallel;
        // ForwardPass's buffers: per batched token the residual and normed input (2 x dim), the queries and the
        // attention output (2 x heads x headDim), the new keys and values (2 x kvHeads x headDim), the FFN's gate
        // and up (2 x ffn), and the products' input transposed twice (as given and rounded to Q8_0); the logits;
        // the tokens of the context; per thread a tile of 8 decoded weight rows and the attention scores over it;
        // with several sequences, per sequence the tokens of its context and its logits twice (the step's, its own)
        int qDim = m.heads() * m.headDim();
        int widest = Math.max(Math.max(m.embeddingLength(), m.feedForwardLength()), qDim);
        long floats = (long) batch * (2L * m.embeddingLength() + 2L * qDim + 2L * m.kvHeads() * m.headDim()
                + 2L * m.feedForwardLength() + 2L * widest) + m.vocabSize() + ctx
                + (long) threads * (8L * widest + ctx)
                + (parallel == 1 ? 0 : (long) parallel * (ctx + 2L * m.vocabSize()));
        return new Sizes(m.weightBytes(), kvCache, 4 * floats);
    }

    private static String limitText(long budget, long available) {
        return available >= 0 && available < budget
                ? "the " + MemoryPlan.mib(available) + " available (MemAvailable less the OS reserve)"
                : "the budget of " + MemoryPlan.mib(budget);
    }

    /** "; would fit: --ctx 1024, or a Q4_0 file (...), or profile raspberry-pi-4-2gb" or a plain refusal. */
    private String suggestions(ModelShape model, Profile profile, int ctx, KvCacheType kv, int threads, int parallel,
                               long limit) {
        List<String> options = new ArrayList<>();
        for (int fewer = parallel - 1; fewer >= 1; fewer--) {
            if (sizes(model, ctx, kv, threads, fewer).total() <= limit) {
                options.add("service.parallel = " + fewer);
                break;
            }
        }
        for (int shorter = (ctx - 1) / CONTEXT_STEP * CONTEXT_STEP; shorter >= CONTEXT_STEP; shorter -= CONTEXT_STEP) {
            if (sizes(model, shorter, kv, threads, parallel).total() <= limit) {
                options.add("--ctx " + shorter);
                break;
            }
        }
        long q40Bytes = GgmlType.Q4_0.byteSize(model.weightElements() / GgmlType.Q4_0.blockSize * GgmlType.Q4_0.blockSize);
        if (q40Bytes < model.weightBytes()) {
            ModelShape q40 = model.withWeights(q40Bytes, GgmlType.Q4_0);
            if (sizes(q40, ctx, kv, threads, parallel).total() <= limit) {
                options.add("a Q4_0 file (tinyedge quantize IN.gguf OUT.gguf --type q4_0)");
            }
        }
        long needed = sizes(model, ctx, kv, threads, parallel).total();
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

    private static long roundUpMb(long bytes, long stepMb) {
        long mb = (bytes + (1L << 20) - 1) >> 20;
        return (mb + stepMb - 1) / stepMb * stepMb;
    }
}
