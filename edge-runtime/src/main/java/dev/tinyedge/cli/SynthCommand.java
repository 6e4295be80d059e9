package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.SynthVocabulary;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Writes a Llama GGUF with random weights and a Llama-2-style tokenizer, for tests and benchmarks.")
final class SynthCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(SynthCommand.class);

    @Parameters(index = "0", paramLabel = "OUT.gguf")
    Path out;

    @Option(names = "--preset", required = true, paramLabel = "tiny|tinyllama-1.1b")
    String preset;

    @Option(names = "--type", defaultValue = "q4_0", paramLabel = "f32|f16|q8_0|q4_0", description = "matrix type (default: ${DEFAULT-VALUE})")
    String type;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "default: ${DEFAULT-VALUE}")
    long seed;

    @Override
    public Integer call() throws Exception {
        SyntheticModel.Preset shape;
        try {
            shape = SyntheticModel.preset(preset);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        GgmlType matrixType = switch (type.toLowerCase(Locale.ROOT)) {
            case "f32" -> GgmlType.F32;
            case "f16" -> GgmlType.F16;
            case "q8_0" -> GgmlType.Q8_0;
            case "q4_0" -> GgmlType.Q4_0;
            default -> throw new Main.UsageException("--type " + type + " is not supported by synth yet (f32, f16, q8_0, q4_0)");
        };
        long started = System.nanoTime();
        GgufWriter writer = SyntheticModel.writer(shape, matrixType, seed);
        SynthVocabulary.load().writeTo(writer);
        writer.write(out);
        log.info("wrote {} ({} preset, {}, seed {}) in {} s", out, shape.name(), matrixType, seed,
                Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        return 0;
    }
}
