package dev.tinyedge.cli;

import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code tinyedge tokenize}: prints the token ids of a text as a JSON array. */
@Command(name = "tokenize", mixinStandardHelpOptions = true, description = "Print the token ids of TEXT as a JSON array, e.g. [1, 15043, 3186].")
public final class TokenizeCommand implements Callable<Integer> {

    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "GGUF model file whose vocabulary to use")
    Path model;

    @Option(names = "--no-bos", description = "do not add the BOS token")
    boolean noBos;

    @Option(names = "--parse-special", description = "turn text such as </s> into special tokens (default: plain text)")
    boolean parseSpecial;

    @Parameters(paramLabel = "TEXT", description = "the text to tokenize")
    String text;

    @Override
    public Integer call() throws Exception {
        int[] tokens;
        try (GgufFile file = GgufFile.open(model)) {
            tokens = Tokenizer.fromGguf(file).encode(text, !noBos, parseSpecial);
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(model, e);
        }
        // "[1, 15043, 3186]": one line, a space after each comma
        DefaultPrettyPrinter oneLine = new DefaultPrettyPrinter(Separators.createDefaultInstance()
                .withArrayValueSpacing(Separators.Spacing.AFTER))
                .withArrayIndenter(DefaultPrettyPrinter.NopIndenter.instance);
        System.out.println(new ObjectMapper().writer(oneLine).writeValueAsString(tokens));
        return 0;
    }
}
