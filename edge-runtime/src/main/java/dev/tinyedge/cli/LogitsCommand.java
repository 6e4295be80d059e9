package dev.tinyedge.cli;

import dev.tinyedge.engine.Engine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

@Command(name = "logits", mixinStandardHelpOptions = true,
        description = "Evaluates BOS + prompt tokens and prints the largest logits of the last position as JSON.")
final class LogitsCommand implements Callable<Integer> {
    @Mixin
    EngineArguments engineArguments;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT")
    String prompt;

    @Option(names = "--top", defaultValue = "10", paramLabel = "K", description = "how many logits (default: ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--parse-special", description = "turn text like </s> in the prompt into special tokens")
    boolean parseSpecial;

    record Logit(int id, float logit) {
    }

    @Override
    public Integer call() throws Exception {
        if (top < 1) {
            throw new Main.UsageException("--top must be at least 1, got " + top);
        }
        try (Engine engine = engineArguments.load()) {
            int[] tokens = engine.tokenizer().encode(prompt, true, parseSpecial);
            if (tokens.length > engine.contextLength()) {
                throw new Main.UsageException("the prompt has " + tokens.length + " tokens, more than the context of " + engine.contextLength());
            }
            float[] logits = engine.forward(tokens, tokens.length, 0);
            List<Logit> largest = IntStream.range(0, logits.length).boxed()
                    .sorted(Comparator.comparingDouble((Integer id) -> logits[id]).reversed().thenComparing(id -> id))
                    .limit(top)
                    .map(id -> new Logit(id, logits[id]))
                    .toList();
            Json.print(Map.of("top", largest));
        }
        return 0;
    }
}
