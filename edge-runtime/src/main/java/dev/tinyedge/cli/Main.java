package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufFormatException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.nio.file.NoSuchFileException;

/**
 * The {@code tinyedge} command line. Exit codes: 0 success, 1 runtime error, 2 usage error; every error
 * is one line on stderr starting {@code tinyedge: error: }.
 */
@Command(name = "tinyedge", mixinStandardHelpOptions = true, version = "tinyedge 0.1.0",
        description = "Offline translation on small boards: GGUF models (Llama 2/3, Qwen2, Qwen3, Gemma 3) on CPU or OpenCL, served over MQTT.",
        subcommands = {
                CommandLine.HelpCommand.class,
                TokenizeCommand.class,
                QuantizeCommand.class,
                InspectCommand.class,
                GenerateCommand.class,
                LogitsCommand.class,
                BenchCommand.class,
                SynthCommand.class,
                ServeCommand.class,
                PullCommand.class,
                ModelsCommand.class,
                EvalCommand.class,
                TranslateCommand.class,
        })
public final class Main {
    public static final int EXIT_RUNTIME = 1;
    public static final int EXIT_USAGE = 2;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((e, a) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("tinyedge: error: " + oneLine(e.getMessage())
                    + " (see 'tinyedge " + commandPath(e.getCommandLine()) + "--help')");
            err.flush();
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, c, p) -> {
            PrintWriter err = c.getErr();
            err.println("tinyedge: error: " + describe(e));
            err.flush();
            if (System.getenv("TINYEDGE_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return e instanceof UsageException ? EXIT_USAGE : EXIT_RUNTIME;
        });
        return cli.execute(args);
    }

    private static String commandPath(CommandLine c) {
        StringBuilder sb = new StringBuilder();
        for (CommandLine p = c; p.getParent() != null; p = p.getParent()) {
            sb.insert(0, p.getCommandName() + " ");
        }
        return sb.toString();
    }

    /** One line for any failure: what went wrong, in the user's terms. */
    static String describe(Throwable e) {
        return switch (e) {
            case ModelFileException m -> oneLine(m.getMessage());
            case NoSuchFileException n -> n.getFile() + ": no such file";
            case java.nio.file.AccessDeniedException a -> a.getFile() + ": permission denied";
            case OutOfMemoryError o -> "out of memory (" + oneLine(o.getMessage())
                    + "): use a smaller model or context, or give the JVM more heap with TINYEDGE_JAVA_OPTS=-Xmx...";
            default -> {
                String message = e.getMessage();
                yield oneLine(message == null || message.isBlank() ? e.getClass().getSimpleName() : message);
            }
        };
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*[\\r\\n]+\\s*", "; ").strip();
    }

    /** A mistake in how the command was called (exit 2). */
    public static final class UsageException extends RuntimeException {
        public UsageException(String message) {
            super(message);
        }
    }

    /** A model file that cannot be used; the message is {@code <file>: <what> at offset <n>}. */
    public static final class ModelFileException extends RuntimeException {
        public ModelFileException(java.nio.file.Path file, GgufFormatException cause) {
            super(file + ": " + cause.getMessage(), cause);
        }
    }
}
