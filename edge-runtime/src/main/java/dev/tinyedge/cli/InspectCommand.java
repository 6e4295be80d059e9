package dev.tinyedge.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.tinyedge.board.MemoryPlan;
import dev.tinyedge.board.MemoryPlanner;
import dev.tinyedge.board.ProfileException;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.quantize.MixtureAdvice;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.reflect.Array;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;

/**
 * {@code tinyedge inspect MODEL}: what a GGUF model is, from its header alone. The report has sections
 * (file, model, hyper-parameters, tensors, tokenizer); the memory plan for {@code --profile}/{@code --ctx}
 * is the section that follows them, in text and as the {@code memory_plan} member in JSON.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Shows a GGUF model's architecture, hyper-parameters, tensor types and counts, parameter count and tokenizer.")
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = "--json", description = "print one JSON document instead of the table")
    boolean json;

    @Option(names = "--profile", paramLabel = "P", description = "board profile for the memory plan")
    String profile;

    @Option(names = "--ctx", paramLabel = "N", description = "context length for the memory plan (default: the profile's, at most the model's)")
    int contextLength;

    @Override
    public Integer call() throws IOException {
        if (contextLength < 0) {
            throw new Main.UsageException("--ctx must be 0 (the profile's) or a positive number of tokens, not " + contextLength);
        }
        if (Files.exists(model) && !Files.isRegularFile(model)) {
            throw new IOException(model + ": not a regular file");
        }
        ModelSummary summary;
        MemoryPlan plan;
        List<String> warnings;
        try (GgufFile gguf = GgufFile.open(model)) {
            summary = ModelSummary.of(gguf);
            plan = memoryPlan(gguf);
            warnings = MixtureAdvice.warnings(gguf.tensors(), plan == null ? "cpu" : plan.backend());
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(model, e);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            // made here, not in a static field: Jackson's start-up would slow down every error report
            ObjectMapper mapper = new ObjectMapper()
                    .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                    .enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode document = mapper.valueToTree(summary);
            document.set("memory_plan", mapper.valueToTree(plan));
            document.set("warnings", mapper.valueToTree(warnings));
            out.println(mapper.writeValueAsString(document));
        } else {
            printTable(summary, out);
            out.print(plan == null ? "memory plan     none: tinyedge cannot run this model\n" : plan.describe());
            warnings.forEach(w -> out.println("warning: " + w));
        }
        out.flush();
        return 0;
    }

    /** The plan for --profile (default: this board) and --ctx; null for a model the planner cannot size. */
    private MemoryPlan memoryPlan(GgufFile gguf) {
        try {
            return MemoryPlanner.planFor(gguf, profile, contextLength);
        } catch (GgufFormatException e) {
            return null;
        } catch (ProfileException e) {
            throw new Main.UsageException(e.getMessage());
        }
    }

    private static void printTable(ModelSummary s, PrintWriter out) {
        out.printf("%-16s%s%n", "file", s.file());
        out.printf("%-16s%s, GGUF v%d%n", "size", bytes(s.fileSize()), s.ggufVersion());
        out.printf("%-16s%s%n", "architecture", orNone(s.architecture()));
        out.printf("%-16s%s%n", "name", orNone(s.name()));
        out.printf("%-16s%s (%s)%n", "parameters", count(s.parameters()), String.format(Locale.ROOT, "%,d", s.parameters()));
        out.printf("%-16s%s%n", "runs", s.unsupported() == null ? String.join(", ", s.features()) : "no: " + s.unsupported());

        out.printf("%nhyper-parameters%s%n", s.architecture() == null ? "" : " (" + s.architecture() + ".*)");
        if (s.hyperParameters().isEmpty()) {
            out.println("  none");
        }
        s.hyperParameters().forEach((key, value) -> out.printf("  %-38s%s%n", key, value(value)));

        out.printf("%ntensors         %d%n", s.tensorCount());
        StringJoiner types = new StringJoiner(", ");
        s.tensorTypes().forEach((type, stats) -> types.add(type + ": " + stats.tensors()));
        if (s.tensorCount() > 0) {
            out.printf("  %-14s%s%n", "types", types);
        }
        for (Map.Entry<String, ModelSummary.TypeStats> e : s.tensorTypes().entrySet()) {
            ModelSummary.TypeStats t = e.getValue();
            out.printf("  %-6s %5d tensor%s %12s parameters %12s%n", e.getKey(), t.tensors(), t.tensors() == 1 ? " " : "s",
                    count(t.parameters()), bytes(t.bytes()));
        }

        ModelSummary.Tokenizer tok = s.tokenizer();
        out.printf("%ntokenizer       %s%n", orNone(tok.model()));
        out.printf("  %-14s%s%n", "vocabulary", tok.vocabSize() == null ? "none" : tok.vocabSize() + " tokens");
        out.printf("  %-14s%s%n", "bos / eos", orNone(tok.bosTokenId()) + " / " + orNone(tok.eosTokenId()));
        out.printf("  %-14s%s%n", "chat template", tok.chatTemplate() ? "present (" + bytes(tok.chatTemplateBytes()) + ")" : "none");
    }

    private static String orNone(Object value) {
        return value == null ? "none" : value.toString();
    }

    /** Scalars as they are; arrays by their first few elements. */
    private static String value(Object value) {
        if (!value.getClass().isArray()) {
            return value.toString();
        }
        int n = Array.getLength(value);
        StringJoiner sb = new StringJoiner(", ", "[", n > 8 ? ", ... (" + n + " values)]" : "]");
        for (int i = 0; i < Math.min(n, 8); i++) {
            sb.add(String.valueOf(Array.get(value, i)));
        }
        return sb.toString();
    }

    static String count(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.2f K", n / 1e3);
        }
        return Long.toString(n);
    }

    static String bytes(long n) {
        if (n >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        }
        if (n >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
        }
        if (n >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", n / (double) (1L << 10));
        }
        return n + " bytes";
    }
}
