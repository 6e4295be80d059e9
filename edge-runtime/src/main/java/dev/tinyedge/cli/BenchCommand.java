package dev.tinyedge.cli;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.Generation;
import dev.tinyedge.engine.Session;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.sampling.Sampler;
import dev.tinyedge.tensor.Simd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measures prefill and decode speed on fixed pseudo-random tokens; prints JSON.")
final class BenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BenchCommand.class);
    /** Tokens of the untimed warm-up run that lets the JIT compile the kernels first. */
    private static final int WARM_UP_TOKENS = 16;

    @Mixin
    EngineArguments engineArguments;

    @Option(names = "--prompt-tokens", defaultValue = "128", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "128", paramLabel = "N", description = "default: ${DEFAULT-VALUE}")
    int genTokens;

    @Option(names = "--repeat", defaultValue = "1", paramLabel = "R", description = "timed runs, averaged (default: ${DEFAULT-VALUE})")
    int repeat;

    @Override
    public Integer call() throws Exception {
        if (promptTokens < 1 || genTokens < 1 || repeat < 1) {
            throw new Main.UsageException("--prompt-tokens, --gen-tokens and --repeat must be at least 1");
        }
        ModelConfig config;
        try (GgufFile file = GgufFile.open(engineArguments.model)) {
            config = ModelConfig.fromGguf(file);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(engineArguments.model, e);
        }
        if (promptTokens + genTokens > config.contextLength()) {
            throw new Main.UsageException("--prompt-tokens + --gen-tokens must fit the context of " + config.contextLength());
        }
        // the context the run needs, rounded up to 256 as llama.cpp's bench (tests/node/oracle.mjs) sizes it,
        // so that both hold KV caches of the same length
        int context = Math.min(config.contextLength(), (promptTokens + genTokens + 255) / 256 * 256);
        try (Engine engine = engineArguments.load(context); Session session = engine.openSession()) {
            Optional<Backend.MemoryTraffic> traffic = engine.memoryTraffic();
            int[] prompt = new int[promptTokens];
            int bos = engine.tokenizer().bos();
            SplittableRandom random = new SplittableRandom(0);
            for (int i = 0; i < promptTokens; i++) {
                prompt[i] = i == 0 && bos >= 0 ? bos : random.nextInt(3, engine.config().vocabSize());
            }
            run(session, Arrays.copyOf(prompt, Math.min(WARM_UP_TOKENS, promptTokens)), Math.min(WARM_UP_TOKENS, genTokens));
            long prefilled = 0;
            long prefillNanos = 0;
            long decoded = 0;
            long decodeNanos = 0;
            for (int r = 0; r < repeat; r++) {
                Generation.Result result = run(session, prompt, genTokens);
                log.info("run {}: prefill {} tok/s, decode {} tok/s", r + 1, Json.rate(result.prefillTokensPerSecond()),
                        Json.rate(result.decodeTokensPerSecond()));
                prefilled += result.prefilledTokens();
                prefillNanos += result.prefillNanos();
                decoded += result.decodedTokens();
                decodeNanos += result.decodeNanos();
            }
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("prefill_tok_s", Json.rate(prefilled * 1e9 / prefillNanos));
            double decodeRate = decoded * 1e9 / decodeNanos;
            doc.put("decode_tok_s", Json.rate(decodeRate));
            traffic.ifPresent(t -> putBandwidth(doc, t, decodeRate));
            doc.put("peak_rss_mb", peakRssMegabytes());
            doc.put("threads", engineArguments.options().resolvedThreads());
            doc.put("backend", engine.backendName());
            doc.put("backend_description", engine.backendDescription());
            doc.put("vector_bits", Simd.vectorBits());
            doc.put("model", engine.modelName());
            doc.put("prompt_tokens", promptTokens);
            doc.put("gen_tokens", genTokens);
            doc.put("repeat", repeat);
            Json.print(doc);
        }
        return 0;
    }

    /**
     * Decode's weight traffic against the copy bandwidth the backend measured before the runs: how close decode
     * comes to the memory's limit (it reads every weight once per token).
     */
    private static void putBandwidth(Map<String, Object> doc, Backend.MemoryTraffic traffic, double decodeTokensPerSecond) {
        double decode = traffic.weightBytesPerToken() * decodeTokensPerSecond / 1e9;
        double copy = traffic.copyBytesPerSecond() / 1e9;
        double percent = 100 * decode / copy;
        log.info("decode reads {} GB/s of weights: {}% of the {} GB/s that {} moved", Json.rate(decode),
                Json.rate(percent), Json.rate(copy), traffic.copyMethod());
        doc.put("decode_gb_s", Json.rate(decode));
        doc.put("copy_gb_s", Json.rate(copy));
        doc.put("decode_bandwidth_pct", Json.rate(percent));
    }

    /**
     * Prefills the whole prompt from position 0, then decodes greedily through the generation loop, ending
     * tokens included: {@code gen} single-token passes (one more token is sampled than evaluated), or one fewer
     * when prompt and tokens fill the context exactly (the last token then has no position to be evaluated at).
     * The rates count the passes made.
     */
    private static Generation.Result run(Session session, int[] prompt, int gen) {
        session.clear();
        return session.generate(prompt, new Generation.Settings(Sampler.greedy(), gen + 1, Generation.EndTokens.NONE),
                text -> true);
    }

    /** The process's peak resident set (VmHWM), or null where /proc does not tell. */
    private static Long peakRssMegabytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            log.warn("cannot read the peak RSS: {}", e.getMessage());
        }
        return null;
    }
}
