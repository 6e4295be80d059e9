import dev.tinyedge.board.MemoryPlan;
import dev.tinyedge.board.MemoryPlanner;
import dev.tinyedge.board.ModelShape;
import dev.tinyedge.board.Profile;
import dev.tinyedge.board.ProfileCatalog;
import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Plans a model at a context length, then runs it the way `tinyedge bench` does (prefill, then greedy
 * decode) and prints the plan next to the process's peak RSS (VmHWM). bench has no context option,
 * which is why this exists; bench/planner-check.sh runs it.
 *
 * usage: java ... bench/PlannerCheck.java MODEL PROFILE CTX THREADS PROMPT_TOKENS GEN_TOKENS
 */
public class PlannerCheck {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        Profile profile = ProfileCatalog.load().select(args[1], null);
        int ctx = Integer.parseInt(args[2]);
        int threads = Integer.parseInt(args[3]);
        int promptTokens = Integer.parseInt(args[4]);
        int genTokens = Integer.parseInt(args[5]);
        MemoryPlan plan;
        try (GgufFile file = GgufFile.open(model)) {
            plan = new MemoryPlanner(ProfileCatalog.load().all()).plan(ModelShape.of(file), profile, ctx, -1, 1); // one sequence, as run below
        }
        try (Engine engine = Engine.load(model, new EngineOptions(ctx, threads, "cpu"))) {
            int[] prompt = new int[promptTokens];
            prompt[0] = engine.tokenizer().bos();
            for (int i = 1; i < promptTokens; i++) {
                prompt[i] = 3 + (i * 7919) % (engine.config().vocabSize() - 3);
            }
            float[] logits = engine.forward(prompt, promptTokens, 0);
            int[] next = new int[1];
            for (int i = 0; i < genTokens; i++) {
                int best = 0;
                for (int t = 1; t < logits.length; t++) {
                    if (logits[t] > logits[best]) {
                        best = t;
                    }
                }
                next[0] = best;
                logits = engine.forward(next, 1, promptTokens + i);
            }
        }
        long peakKb = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmHWM:")).mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
        double plannedMb = plan.totalBytes() / 1048576.0;
        double peakMb = peakKb / 1024.0;
        System.out.printf(Locale.ROOT, "{\"ctx\":%d,\"threads\":%d,\"max_heap_mb\":%d,\"planned_mb\":%.0f,\"peak_rss_mb\":%.0f,"
                        + "\"error_pct\":%.1f,\"weights_mb\":%.0f,\"kv_mb\":%.0f,\"scratch_mb\":%.0f,\"jvm_mb\":%.0f,\"recommended_heap_mb\":%d}%n",
                ctx, threads, Runtime.getRuntime().maxMemory() >> 20, plannedMb, peakMb, 100 * (plannedMb - peakMb) / peakMb,
                plan.weightsBytes() / 1048576.0, plan.kvCacheBytes() / 1048576.0, plan.scratchBytes() / 1048576.0,
                plan.jvmBytes() / 1048576.0, plan.recommendedHeapMb());
    }
}
