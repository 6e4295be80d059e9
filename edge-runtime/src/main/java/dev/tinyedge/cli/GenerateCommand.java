package dev.tinyedge.cli;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.Generation;
import dev.tinyedge.engine.Session;
import dev.tinyedge.sampling.Sampler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Completes a raw prompt (BOS + prompt tokens, no chat template); --temp 0 is greedy.")
final class GenerateCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(GenerateCommand.class);

    @Mixin
    EngineArguments engineArguments;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT")
    String prompt;

    @Option(names = {"-n", "--n-predict"}, defaultValue = "128", paramLabel = "N", description = "tokens to generate at most (default: ${DEFAULT-VALUE})")
    int maxTokens;

    @Option(names = "--temp", defaultValue = "0.8", paramLabel = "T", description = "temperature, 0 = greedy (default: ${DEFAULT-VALUE})")
    float temperature;

    @Option(names = "--top-k", defaultValue = "40", paramLabel = "K", description = "0 = off (default: ${DEFAULT-VALUE})")
    int topK;

    @Option(names = "--top-p", defaultValue = "0.95", paramLabel = "P", description = "1 = off (default: ${DEFAULT-VALUE})")
    float topP;

    @Option(names = "--seed", paramLabel = "S", description = "random seed (default: a random one)")
    Long seed;

    @Option(names = "--parse-special", description = "turn text like </s> in the prompt into special tokens")
    boolean parseSpecial;

    @Option(names = "--json", description = "print one JSON document instead of streaming the text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (maxTokens < 0 || !(topP > 0 && topP <= 1) || temperature < 0) {
            throw new Main.UsageException("-n must be >= 0, --top-p in (0, 1] and --temp >= 0");
        }
        Sampler sampler = new Sampler(temperature, topK, topP, seed != null ? seed : System.nanoTime());
        try (Engine engine = engineArguments.load(); Session session = engine.openSession()) {
            int[] promptTokens = engine.tokenizer().encode(prompt, true, parseSpecial);
            PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
            Generation.Result result = session.generate(promptTokens,
                    new Generation.Settings(sampler, maxTokens, Generation.EndTokens.END_OF_GENERATION), text -> {
                        if (!json) {
                            out.print(text);
                            out.flush();
                        }
                        return true;
                    });
            log.info("{}: prompt {} tokens at {} tok/s, generated {} tokens at {} tok/s ({})", engine.backendDescription(),
                    result.promptTokens(), Json.rate(result.prefillTokensPerSecond()), result.tokens().length,
                    Json.rate(result.decodeTokensPerSecond()), result.stopReason());
            if (json) {
                Map<String, Object> doc = new LinkedHashMap<>();
                doc.put("prompt_tokens", promptTokens);
                doc.put("tokens", result.tokens());
                doc.put("text", engine.tokenizer().decode(result.tokens()));
                doc.put("prefill_tok_s", Json.rate(result.prefillTokensPerSecond()));
                doc.put("decode_tok_s", Json.rate(result.decodeTokensPerSecond()));
                Json.print(doc);
            } else {
                out.println();
                out.flush();
            }
        }
        return 0;
    }
}
