package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.quantize.Requantizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.Console;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code tinyedge quantize}: requantizes a GGUF model tensor by tensor. */
@Command(name = "quantize", description = {
        "Write IN.gguf with its matrices in another type, tensor by tensor, with ggml's reference quantizers.",
        "Norms stay as they are; q4_k_m follows llama.cpp's Q4_K_M recipe (Q6_K output head, Q6_K attn_v and",
        "ffn_down in half the layers). Metadata is kept; general.file_type says the new type."})
public final class QuantizeCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(QuantizeCommand.class);

    @Parameters(index = "0", paramLabel = "IN.gguf", description = "the model to read (F32, F16, BF16 or a quantized type)")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT.gguf", description = "the file to write")
    Path output;

    @Option(names = "--type", required = true, paramLabel = "TYPE",
            description = "q4_0, q8_0 or q4_k_m; also f16, bf16, q4_1, q5_0, q5_1, q5_k_m, q4_k, q5_k, q6_k")
    String type;

    @Option(names = "--pure", description = "every 2-D weight in TYPE: no Q6_K output head or Q6_K layers")
    boolean pure;

    @Override
    public Integer call() throws Exception {
        QuantMix mix;
        try {
            mix = QuantMix.parse(type);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--type: " + e.getMessage());
        }
        if (Files.exists(output) && Files.isSameFile(input, output)) {
            throw new Main.UsageException("OUT.gguf is IN.gguf: write to another file");
        }
        long started = System.nanoTime();
        try (GgufFile in = GgufFile.open(input)) {
            List<Requantizer.Plan> plans = Requantizer.plan(in, mix, pure);
            if (plans.stream().anyMatch(p -> p.converts() && p.tensor().type().isQuantized())) {
                log.warn("{} is already quantized: requantizing adds a second rounding error; quantize from F16/F32 when you can", input);
            }
            Console console = System.console();
            Requantizer.write(in, plans, mix, output, console != null && console.isTerminal()
                    ? new ProgressBar(System.err) : (done, total, tensor) -> { });
            log.info(String.format(Locale.ROOT, "wrote %s (%s%s): %d tensors, %.1f MB (was %.1f MB) in %.1f s", output,
                    mix.cliName, pure ? " --pure" : "", plans.size(), Files.size(output) / 1e6, in.fileSize() / 1e6,
                    (System.nanoTime() - started) / 1e9));
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(input, e);
        }
        return 0;
    }

    /** One self-overwriting stderr line: percentage, a bar and the tensor being written. */
    private static final class ProgressBar implements Requantizer.Progress {
        private static final int WIDTH = 30;
        private final PrintStream err;
        private int shown = -1;

        ProgressBar(PrintStream err) {
            this.err = err;
        }

        @Override
        public synchronized void update(long doneElements, long totalElements, String tensor) {
            int permille = (int) (1000 * doneElements / Math.max(1, totalElements));
            if (permille <= shown) {
                return; // unchanged, or a worker thread reporting after a later one
            }
            shown = permille;
            int filled = permille * WIDTH / 1000;
            err.printf(Locale.ROOT, "\r[%s%s] %5.1f%% %-40s", "#".repeat(filled), ".".repeat(WIDTH - filled), permille / 10.0, tensor);
            if (doneElements == totalElements) {
                err.println();
            }
            err.flush();
        }
    }
}
