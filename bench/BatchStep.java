import dev.tinyedge.backend.Batch;
import dev.tinyedge.backend.CpuBackend;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;

import java.nio.file.Path;
import java.util.Locale;

/**
 * bench/batching.sh's in-process check: the time of one decode step of the CPU forward pass with 1, 2, 4 and 8
 * sequences in it (each in its own KV-cache slot, 32 tokens of context), sizes alternated round by round, so that
 * the machine's load hits them alike. Isolates what batching does to a step from MQTT and scheduling. Prints one
 * JSON line: per size, the median milliseconds per step and the tokens per second it gives.
 *
 * <pre>java ... BatchStep MODEL THREADS ROUNDS</pre>
 */
public final class BatchStep {
    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int[] sizes = {1, 2, 4, 8};
        try (GgufFile file = GgufFile.open(model);
             CpuBackend cpu = new CpuBackend(ModelWeights.load(file), 32 + 4 * rounds * 2 + 8, threads, 8, false)) {
            int[] prompt = new int[32];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 100 + 37 * i;
            }
            int[] positions = new int[8];
            for (int slot = 0; slot < 8; slot++) {
                cpu.forward(slot, prompt, prompt.length, 0);
                positions[slot] = prompt.length;
            }
            Batch step = new Batch(cpu.maxBatch(), 8);
            int[] token = {1000};
            double[][] millis = new double[sizes.length][rounds];
            for (int r = 0; r < rounds; r++) {
                for (int i = 0; i < sizes.length; i++) {
                    // two steps per size and round, the first as a warm-up of that size after the other sizes
                    for (int repeat = 0; repeat < 2; repeat++) {
                        step.clear();
                        for (int slot = 0; slot < sizes[i]; slot++) {
                            step.add(slot, token, 0, 1, positions[slot]++);
                        }
                        long started = System.nanoTime();
                        cpu.forward(step);
                        millis[i][r] = (System.nanoTime() - started) / 1e6;
                    }
                    for (int slot = 0; slot < 8; slot++) {
                        positions[slot] = Math.max(positions[slot], positions[0]);
                    }
                }
            }
            StringBuilder json = new StringBuilder("{\"threads\":" + threads + ",\"rounds\":" + rounds);
            for (int i = 0; i < sizes.length; i++) {
                java.util.Arrays.sort(millis[i]);
                double median = millis[i][rounds / 2];
                json.append(String.format(Locale.ROOT, ",\"step_ms_%d\":%.1f,\"tok_s_%d\":%.2f", sizes[i], median,
                        sizes[i], sizes[i] * 1000 / median));
            }
            System.out.println(json.append('}'));
        }
    }
}
