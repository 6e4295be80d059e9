package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.quantize.QuantMix;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = "Writes a GGUF with random weights in a real model's shapes (llama, qwen2, qwen3 or gemma3) and a"
                + " SentencePiece tokenizer, for tests and benchmarks.")
final class SynthCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(SynthCommand.class);

    @Parameters(index = "0", paramLabel = "OUT.gguf")
    Path out;

    @Option(names = "--preset", required = true, paramLabel = "NAME",
            description = "tinyllama-1.1b, qwen2.5-0.5b, qwen3-0.6b, llama-3.2-1b, gemma-3-270m, gemma-3-1b (real shapes);"
                    + " tiny, tiny-qwen2, tiny-qwen3, tiny-llama3, tiny-gemma3 (small ones for tests)")
    String preset;

    @Option(names = "--type", defaultValue = "q4_0", paramLabel = "TYPE",
            description = "f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k: every matrix in that type;"
                    + " q4_k_m, q5_k_m: llama.cpp's recipe (Q6_K output head, Q6_K attn_v/ffn_down in half the layers)."
                    + " Rows too narrow for a 256-block fall back as in llama.cpp (Q4_K to Q5_0). Default: ${DEFAULT-VALUE}")
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
        QuantMix mix;
        try {
            mix = QuantMix.parse(type);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException("--type: " + e.getMessage());
        }
        // the _m mixtures are recipes; a plain type means that type throughout, as a benchmark wants it
        boolean pure = mix != QuantMix.Q4_K_M && mix != QuantMix.Q5_K_M;
        long started = System.nanoTime();
        GgufWriter writer = SyntheticModel.writer(shape, mix, pure, seed);
        SyntheticModel.writeVocabulary(shape, writer);
        writer.write(out);
        log.info("wrote {} ({} preset, {}, seed {}) in {} s", out, shape.name(), mix.cliName, seed,
                Math.round((System.nanoTime() - started) / 1e8) / 10.0);
        return 0;
    }
}
