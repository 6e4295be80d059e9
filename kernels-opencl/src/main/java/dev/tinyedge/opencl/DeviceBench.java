package dev.tinyedge.opencl;

import dev.tinyedge.backend.CpuBackend;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;

import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The measurement bench/opencl-device.sh makes on a lent GPU, one model per run: what decode's matrix products
 * (the inputs' rounding included, nothing else) reach against the copy bandwidth of the device, and whether the
 * device computes what the CPU backend does. With kernels that use optional extensions it also compares them with
 * the portable kernels on the same device. Prints one JSON line; the system properties of {@link OpenClBackend}
 * and {@link DeviceTuning} apply.
 *
 * <p>{@code java ... dev.tinyedge.opencl.DeviceBench MODEL.gguf [--steps N] [--no-check]}: N timed decode steps
 * (default 50); {@code --no-check} skips the comparisons (for runs that only vary the split).
 */
public final class DeviceBench {
    private static final int PROMPT = 16;
    private static final int WARM_UP_STEPS = 3;

    private DeviceBench() {
    }

    public static void main(String[] args) throws Exception {
        int steps = 50;
        boolean check = true;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--no-check" -> check = false;
                default -> {
                    System.err.println("usage: DeviceBench MODEL.gguf [--steps N] [--no-check]");
                    System.exit(2);
                }
            }
        }
        try (GgufFile file = GgufFile.open(Path.of(args[0]))) {
            ModelWeights model = ModelWeights.load(file);
            int context = 2 * PROMPT;
            SplittableRandom random = new SplittableRandom(1);
            int[] prompt = new int[PROMPT];
            for (int i = 0; i < PROMPT; i++) {
                prompt[i] = random.nextInt(3, model.config().vocabSize());
            }
            float[] cpu = null;
            if (check) {
                try (CpuBackend backend = new CpuBackend(model, context, Runtime.getRuntime().availableProcessors())) {
                    cpu = backend.forward(prompt, PROMPT, 0).clone();
                }
            }
            ClDevice device = OpenCl.select(OpenCl.devices(), System.getProperty("tinyedge.opencl.device"));
            try (OpenClBackend backend = OpenClBackend.open(model, context, device, null)) {
                float[] logits = backend.forward(prompt, PROMPT, 0).clone();
                DeviceTuning tuning = backend.kernels().tuning();
                String vsPortable = "null";
                if (check && tuning.usesExtensions()) {
                    try (OpenClBackend portable = OpenClBackend.open(model, context, device, tuning.portable())) {
                        vsPortable = String.format(Locale.ROOT, "%.3g",
                                relativeError(portable.forward(prompt, PROMPT, 0), logits));
                    }
                }
                double copy = CopyBandwidth.measure(backend.cl(), backend.kernels());
                backend.timeDecodeProducts(WARM_UP_STEPS);
                double seconds = backend.timeDecodeProducts(steps);
                double matVec = (double) backend.weightBytesPerToken() * steps / seconds;
                System.out.println(String.format(Locale.ROOT, "{\"model\":\"%s\",\"device\":\"%s\",\"tuning\":\"%s\","
                                + "\"kv\":\"%s\",\"weight_mb_per_token\":%.1f,\"copy_gb_s\":%.1f,\"matvec_gb_s\":%.1f,"
                                + "\"matvec_pct_of_copy\":%.1f,\"vs_cpu\":%s,\"vs_portable\":%s}",
                        Path.of(args[0]).getFileName(), device.name().replace("\"", "'"), tuning.describe(),
                        backend.kvCacheIsHalf() ? "f16" : "f32", backend.weightBytesPerToken() / 1e6, copy / 1e9,
                        matVec / 1e9, 100 * matVec / copy,
                        cpu == null ? "null" : String.format(Locale.ROOT, "%.3g", relativeError(logits, cpu)),
                        vsPortable));
            }
        }
    }

    /** ||actual - expected|| / ||expected|| over the logits. */
    private static double relativeError(float[] actual, float[] expected) {
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += Math.pow(actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        return Math.sqrt(difference / norm);
    }
}
