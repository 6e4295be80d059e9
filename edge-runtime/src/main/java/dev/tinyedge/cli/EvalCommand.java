package dev.tinyedge.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.catalog.ModelCatalog;
import dev.tinyedge.catalog.ModelsFolder;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.eval.Evaluation;
import dev.tinyedge.eval.SentencePairs;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.translate.EngineTranslator;
import dev.tinyedge.translate.Language;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Translates a test set of sentence pairs with a model, through the daemon's prompts, and "
                + "scores it: corpus chrF and chrF++ exactly as sacreBLEU 2.x computes them, speed, the worst sentences.",
                "With --hypotheses instead of --model: scores another system's translations the same way."})
final class EvalCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(EvalCommand.class);

    @ArgGroup(multiplicity = "1")
    Scored system;

    static final class Scored {
        @Option(names = "--model", paramLabel = "MODEL", description = "GGUF file or catalog name to translate with")
        String model;

        @Option(names = "--hypotheses", paramLabel = "FILE", description = "translations to score, one per pair")
        Path hypotheses;
    }

    @Option(names = "--pairs", required = true, paramLabel = "FILE",
            description = "SOURCE<TAB>REFERENCE per line; or sources, one per line, with --references")
    Path pairs;

    @Option(names = "--references", paramLabel = "FILE", description = "references aligned line by line with --pairs")
    Path references;

    @Option(names = "--from", required = true, paramLabel = "LANG", description = "source language (ISO 639-1)")
    String from;

    @Option(names = "--to", required = true, paramLabel = "LANG", description = "target language (ISO 639-1)")
    String to;

    @Option(names = "--json", description = "one JSON document: scores, speed and every sentence")
    boolean json;

    @Option(names = "--worst", defaultValue = "5", paramLabel = "N", description = "how many worst sentences to show")
    int worst;

    @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "only the first N pairs (0: all)")
    int limit;

    @Option(names = "--max-tokens", defaultValue = "256", paramLabel = "N", description = "cap on generated tokens")
    int maxTokens;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU threads (default: one per core)")
    int threads;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|opencl", description = "where to run")
    String backend;

    private final PrintStream out = new PrintStream(java.lang.System.out, true, StandardCharsets.UTF_8);

    @Override
    public Integer call() throws IOException {
        Language source = language(from, "--from");
        Language target = language(to, "--to");
        if (worst < 0 || limit < 0 || maxTokens <= 0 || threads < 0) {
            throw new Main.UsageException("--worst, --limit and --threads take 0 or more, --max-tokens 1 or more");
        }
        List<SentencePairs.Pair> set;
        try {
            set = SentencePairs.read(pairs, references);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (limit > 0 && set.size() > limit) {
            set = set.subList(0, limit);
        }
        Evaluation.Report report = system.hypotheses != null ? scoreGiven(set, source, target)
                : translate(set, source, target);
        if (json) {
            out.println(new ObjectMapper().writeValueAsString(report));
        } else {
            print(report);
        }
        return 0;
    }

    private Evaluation.Report scoreGiven(List<SentencePairs.Pair> set, Language source, Language target)
            throws IOException {
        List<String> lines;
        try {
            lines = SentencePairs.readLines(system.hypotheses);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(e.getMessage());
        }
        if (limit > 0 && lines.size() > limit) {
            lines = lines.subList(0, limit);
        }
        try {
            return Evaluation.score(system.hypotheses.getFileName().toString(), set, lines, source, target, worst);
        } catch (IllegalArgumentException e) {
            throw new Main.UsageException(system.hypotheses + ": " + e.getMessage());
        }
    }

    private Evaluation.Report translate(List<SentencePairs.Pair> set, Language source, Language target)
            throws IOException {
        if (!backend.equals("cpu") && !backend.equals("opencl")) {
            throw new Main.UsageException("--backend must be cpu or opencl, got '" + backend + "'");
        }
        Path model = ModelsFolder.resolve(system.model, ModelCatalog.load(), ModelsFolder.of(java.lang.System.getenv()));
        EngineTranslator translator;
        try {
            // as the daemon runs it: greedy, the instructions' KV cache kept between sentences
            translator = EngineTranslator.load(model, new EngineOptions(0, threads, backend), true);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(model, e);
        }
        try (translator) {
            int total = set.size();
            long[] lastLog = {java.lang.System.nanoTime()};
            return Evaluation.translate(translator, set, source, target, maxTokens, worst, done -> {
                long now = java.lang.System.nanoTime();
                if (now - lastLog[0] > 5_000_000_000L || done == total) {
                    lastLog[0] = now;
                    log.info("translated {} of {} sentences", done, total);
                }
            });
        }
    }

    private void print(Evaluation.Report r) {
        out.printf(Locale.ROOT, "%s, %s -> %s, %d sentence pairs%n", r.model(), r.from(), r.to(), r.pairs());
        out.printf(Locale.ROOT, "chrF   %6.2f%nchrF++ %6.2f   (sacreBLEU 2.x definitions: chrF2, chrF2++)%n",
                r.chrf(), r.chrfPlusPlus());
        if (r.seconds() != null) {
            out.printf(Locale.ROOT, "speed  %.2f sentences/s, %.1f generated tokens/s (decode alone %s), %.1f s in all%n",
                    r.sentencesPerS(), r.generatedTokensPerS(),
                    r.decodeTokensPerS() == null ? "-" : String.format(Locale.ROOT, "%.1f tok/s", r.decodeTokensPerS()),
                    r.seconds());
        }
        if (!r.worst().isEmpty()) {
            out.println("worst sentences (sentence chrF):");
            for (Evaluation.Sentence s : r.worst()) {
                out.printf(Locale.ROOT, "  line %d, %.1f%n    source     %s%n    reference  %s%n    hypothesis %s%n",
                        s.line(), s.chrf(), s.source(), s.reference(), s.hypothesis());
            }
        }
    }

    private static Language language(String code, String option) {
        return Language.of(code).orElseThrow(() -> new Main.UsageException(option + " '" + code
                + "' is not a supported language; use an ISO 639-1 code, one of " + String.join(", ", Language.codes())));
    }
}
