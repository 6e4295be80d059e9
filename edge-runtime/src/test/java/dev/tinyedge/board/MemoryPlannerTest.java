package dev.tinyedge.board;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryPlannerTest {
    static final ProfileCatalog CATALOG = ProfileCatalog.load(List.of());
    static final MemoryPlanner PLANNER = new MemoryPlanner(CATALOG.all());

    /**
     * TinyLlama-1.1B as a pure Q4_0 file (what {@code tinyedge synth --preset tinyllama-1.1b --type q4_0}
     * writes), its bytes worked out by hand at 18 bytes per 32 weights:
     * token_embd and output 2 x 32000 x 2048 -> 73,728,000; per layer q and o 2 x 2,359,296, k and v
     * 2 x 294,912, gate, up and down 3 x 6,488,064, two f32 norms 16,384 -> 24,788,992, x 22 = 545,357,824;
     * output_norm 8,192. Total 619,094,016 bytes (the "620 MB" file).
     */
    static final ModelShape TINYLLAMA_Q4_0 = new ModelShape("tinyllama-1.1b", 22, 2048, 5632, 32, 4, 32000, 2048,
            619_094_016L, 1_100_048_384L, GgmlType.Q4_0);
    static final ModelShape TINYLLAMA_F16 = new ModelShape("tinyllama-1.1b", 22, 2048, 5632, 32, 4, 32000, 2048,
            2L * 1_100_048_384L, 1_100_048_384L, GgmlType.F16);

    @Test
    void kvCacheMatchesThePublishedSize() {
        // TinyLlama's f16 KV cache: 22.5 KB per token, 44 MiB at 2048 tokens; f32 takes twice that
        Profile f32 = CATALOG.find("raspberry-pi-4-2gb").orElseThrow();
        Profile f16 = new Profile(f32.name(), f32.description(), f32.match(), f32.memory(), f32.compute(),
                new Profile.ModelDefaults(2048, KvCacheType.F16), f32.service(), f32.thermal(), f32.gpio());
        MemoryPlan half = PLANNER.plan(TINYLLAMA_Q4_0, f16, 2048, -1, 1);
        assertEquals(44L << 20, half.kvCacheBytes());
        assertEquals(22.5, half.kvCacheBytes() / 2048 / 1000.0, 0.05);
        MemoryPlan plan = PLANNER.plan(TINYLLAMA_Q4_0, f32, 2048, -1, 1);
        assertEquals(KvCacheType.F32, plan.kvCacheType());
        assertEquals(88L << 20, plan.kvCacheBytes());
        assertEquals(619_094_016L, plan.weightsBytes());
        assertEquals(plan.weightsBytes() + plan.kvCacheBytes() + plan.scratchBytes() + plan.jvmBytes(), plan.totalBytes());
    }

    @Test
    void shapeComesFromTheGgufMetadataAndTensorInfos(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("small.gguf");
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("general.name", GgufValue.string("small"))
                .put("llama.block_count", GgufValue.u32(1))
                .put("llama.embedding_length", GgufValue.u32(64))
                .put("llama.feed_forward_length", GgufValue.u32(128))
                .put("llama.attention.head_count", GgufValue.u32(4))
                .put("llama.attention.head_count_kv", GgufValue.u32(2))
                .put("llama.context_length", GgufValue.u32(256))
                .put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(1e-5f));
        GgufWriter.TensorSource zeros = out -> out.position(out.limit());
        w.addTensor("token_embd.weight", GgmlType.Q4_0, new long[] {64, 100}, zeros);   // 6400 / 32 * 18 = 3600
        w.addTensor("blk.0.attn_norm.weight", GgmlType.F32, new long[] {64}, zeros);   // 256
        w.addTensor("blk.0.ffn_down.weight", GgmlType.Q8_0, new long[] {128, 64}, zeros); // 8192 / 32 * 34 = 8704
        w.write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            ModelShape shape = ModelShape.of(gguf);
            assertEquals(new ModelShape("small", 1, 64, 128, 4, 2, 100, 256, 3600 + 256 + 8704,
                    6400 + 64 + 8192, GgmlType.Q8_0), shape);
            assertEquals(16, shape.headDim());

            // what inspect shows: a named profile is a plan for that board, "auto" one for this machine
            MemoryPlan named = MemoryPlanner.planFor(gguf, "raspberry-pi-5-4gb", 128);
            assertEquals("raspberry-pi-5-4gb", named.profile());
            assertEquals(128, named.contextLength());
            assertEquals(-1, named.availableBytes());
            assertEquals(4, named.parallel(), "the profile's sequences at once");
            assertEquals(4 * 2L * 1 * 128 * 2 * 16 * 4, named.kvCacheBytes());
            MemoryPlan here = MemoryPlanner.planFor(gguf, "auto", 0);
            assertEquals(256, here.contextLength(), "the profile's 2048, capped at the model's 256");
            assertTrue(here.availableBytes() >= 0);
        }
    }

    @Test
    void familyShapesComeFromTheirConfiguration(@TempDir Path dir) throws Exception {
        Path gemma = TestModels.write(dir, SyntheticModel.TINY_GEMMA3, GgmlType.Q8_0, 1);
        Path qwen3 = TestModels.write(dir, SyntheticModel.TINY_QWEN3, GgmlType.Q8_0, 1);
        try (GgufFile g = GgufFile.open(gemma); GgufFile q = GgufFile.open(qwen3)) {
            ModelShape gemmaShape = ModelShape.of(g);
            assertEquals(5, gemmaShape.localLayers(), "layers 0-4 of 6 are local");
            assertEquals(8, gemmaShape.slidingWindow());
            assertEquals(32, gemmaShape.headDim(), "the key length, not 64 / 4");
            ModelShape qwenShape = ModelShape.of(q);
            assertEquals(0, qwenShape.localLayers());
            assertEquals(32, qwenShape.headDim());
            // qwen3: 2 layers x 100 positions x 2 KV heads of 32; gemma: 1 global layer x 100, 5 local x (8 + 63)
            Profile pi5 = CATALOG.find("raspberry-pi-5-4gb").orElseThrow();
            assertEquals(2L * 2 * 100 * 2 * 32 * 4, PLANNER.plan(qwenShape, pi5, 100, -1, 1).kvCacheBytes());
            assertEquals(2L * (100 + 5 * 71) * 2 * 32 * 4, PLANNER.plan(gemmaShape, pi5, 100, -1, 1).kvCacheBytes());
        }
    }

    @Test
    void gemmaLocalLayersCacheOnlyTheirWindow() {
        // Gemma 3 1B (its parameters as Q4_0): 4 global layers keep the context, 22 local ones 512 + 63 positions (a
        // window and a prefill batch), of 1 KV head of 256
        ModelShape gemma = new ModelShape("gemma-3-1b", 26, 1152, 6912, 4, 1, 256, 262144, 32768, 562_435_584L,
                999_885_952L, GgmlType.Q4_0, 22, 512);
        Profile pi5 = CATALOG.find("raspberry-pi-5-4gb").orElseThrow();
        assertEquals(2L * (4 * 4096 + 22 * 575) * 256 * 4, PLANNER.plan(gemma, pi5, 4096, -1, 1).kvCacheBytes());
        assertEquals(2L * 26 * 256 * 256 * 4, PLANNER.plan(gemma, pi5, 256, -1, 1).kvCacheBytes(), "a context inside the window");
    }

    @Test
    void countsAKvCachePerSequenceAndSuggestsFewerWhenTheyDoNotFit() {
        Profile pi4 = CATALOG.find("raspberry-pi-4-2gb").orElseThrow();
        MemoryPlan one = PLANNER.plan(TINYLLAMA_Q4_0, pi4, 2048, -1, 1);
        MemoryPlan eight = PLANNER.plan(TINYLLAMA_Q4_0, pi4, 2048, -1, 8);
        assertEquals(8, eight.parallel());
        assertEquals(8 * one.kvCacheBytes(), eight.kvCacheBytes());
        assertTrue(eight.scratchBytes() > one.scratchBytes(), "logits and token history per sequence");
        assertTrue(one.fits());
        assertFalse(eight.fits(), eight.verdict());
        assertTrue(eight.verdict().contains("with 8 sequences at once"), eight.verdict());
        int suggested = Integer.parseInt(eight.verdict().replaceAll(".*service\\.parallel = (\\d+).*", "$1"));
        assertTrue(suggested >= 1 && suggested < 8, eight.verdict());
        assertTrue(PLANNER.plan(TINYLLAMA_Q4_0, pi4, 2048, -1, suggested).fits());
        assertFalse(PLANNER.plan(TINYLLAMA_Q4_0, pi4, 2048, -1, suggested + 1).fits());
        assertEquals(2, PLANNER.plan(TINYLLAMA_Q4_0, pi4, 2048, -1).parallel(), "the profile's by default");
    }

    @ParameterizedTest(name = "{0} at context {1}: fits {2}")
    @CsvSource(textBlock = """
            raspberry-pi-4-1gb,    512, true
            raspberry-pi-4-1gb,   2048, false
            raspberry-pi-4-2gb,    512, true
            raspberry-pi-4-2gb,   2048, true
            raspberry-pi-4-4gb,   2048, true
            raspberry-pi-4-8gb,   2048, true
            raspberry-pi-5-4gb,    512, true
            raspberry-pi-5-4gb,   2048, true
            raspberry-pi-5-8gb,   2048, true
            raspberry-pi-5-16gb,  2048, true
            jetson-orin-nano-8gb, 2048, true
            rk3588-8gb,            512, true
            rk3588-8gb,           2048, true
            rk3588-16gb,          2048, true
            generic-arm64,        2048, true
            generic-x86_64,       2048, true
            """)
    void tinyLlamaQ40OnEveryProfile(String profile, int ctx, boolean fits) {
        MemoryPlan plan = PLANNER.plan(TINYLLAMA_Q4_0, CATALOG.find(profile).orElseThrow(), ctx, -1);
        assertEquals(fits, plan.fits(), plan.verdict());
        assertEquals(fits, plan.totalBytes() <= plan.budgetBytes());
        assertFalse(plan.verdict().contains("\n"));
        assertTrue(plan.verdict().startsWith(fits ? "fits " + profile : "does not fit " + profile + " at context " + ctx), plan.verdict());
    }

    @Test
    void aOneGigabytePi4IsToldWhatWouldFit() {
        MemoryPlan plan = PLANNER.plan(TINYLLAMA_Q4_0, CATALOG.find("raspberry-pi-4-1gb").orElseThrow(), 2048, -1);
        assertTrue(plan.verdict().matches("does not fit raspberry-pi-4-1gb at context 2048: needs \\d+ MiB, over the budget of 760 MiB; "
                + "would fit: --ctx \\d+, or profile raspberry-pi-4-2gb \\(a board with more memory\\)"), plan.verdict());
        int suggested = Integer.parseInt(plan.verdict().replaceAll(".*--ctx (\\d+),.*", "$1"));
        Profile pi = CATALOG.find("raspberry-pi-4-1gb").orElseThrow();
        assertTrue(PLANNER.plan(TINYLLAMA_Q4_0, pi, suggested, -1).fits());
        assertFalse(PLANNER.plan(TINYLLAMA_Q4_0, pi, suggested + MemoryPlanner.CONTEXT_STEP, -1).fits());
        MemoryPlan.MemoryPlanException refusal = assertThrows(MemoryPlan.MemoryPlanException.class, plan::requireFits);
        assertEquals(plan.verdict(), refusal.getMessage());
    }

    @Test
    void anF16ModelIsToldToUseQ40() {
        MemoryPlan plan = PLANNER.plan(TINYLLAMA_F16, CATALOG.find("raspberry-pi-4-2gb").orElseThrow(), 2048, -1);
        assertFalse(plan.fits());
        assertTrue(plan.verdict().contains("a Q4_0 file (tinyedge quantize IN.gguf OUT.gguf --type q4_0)"), plan.verdict());
        assertTrue(plan.verdict().contains("raspberry-pi-4-4gb"), plan.verdict());
    }

    @Test
    void theMachinesAvailableMemoryLessTheReserveIsALimitToo() {
        Profile pi5 = CATALOG.find("raspberry-pi-5-8gb").orElseThrow();
        MemoryPlan roomy = PLANNER.plan(TINYLLAMA_Q4_0, pi5, 2048, 4L << 30);
        assertTrue(roomy.fits());
        assertEquals((4L << 30) - pi5.memory().osReserveBytes(), roomy.availableBytes());
        MemoryPlan crowded = PLANNER.plan(TINYLLAMA_Q4_0, pi5, 2048, 600L << 20);
        assertFalse(crowded.fits());
        assertTrue(crowded.verdict().contains("over the 450 MiB available (MemAvailable less the OS reserve)"), crowded.verdict());
    }

    @Test
    void contextZeroMeansTheProfilesAndTheHeapMustHoldKvAndScratch() {
        MemoryPlan plan = PLANNER.plan(TINYLLAMA_Q4_0, CATALOG.find("raspberry-pi-4-1gb").orElseThrow(), 0, -1);
        assertEquals(512, plan.contextLength());
        assertTrue(plan.heapBytes() > plan.kvCacheBytes() + plan.scratchBytes());
        assertTrue(plan.recommendedHeapMb() << 20 >= plan.heapBytes());
        assertTrue(plan.recommendedMemoryMaxMb() << 20 >= plan.totalBytes());
        String message = assertThrows(MemoryPlan.MemoryPlanException.class, () -> plan.requireHeap(16L << 20)).getMessage();
        assertEquals("the JVM heap (16 MiB) is smaller than the " + MemoryPlan.mib(plan.heapBytes())
                + " this model needs at context 512: set TINYEDGE_HEAP=" + plan.recommendedHeapMb() + "m", message);
        plan.requireHeap(plan.recommendedHeapMb() << 20);
        assertTrue(plan.describe().contains("KV cache"));
    }
}
