package dev.tinyedge.eval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test set: sources and their human translations, from a TSV file ({@code source<TAB>reference} per line,
 * blank lines skipped) or from two files aligned line by line (lines blank in both skipped).
 */
public final class SentencePairs {
    /** @param line the 1-based line in the file(s) it came from */
    public record Pair(int line, String source, String reference) {
    }

    private SentencePairs() {
    }

    /** @param references null for a TSV file */
    public static List<Pair> read(Path pairs, Path references) throws IOException {
        List<String> lines = Files.readAllLines(pairs, StandardCharsets.UTF_8);
        List<Pair> result = new ArrayList<>();
        if (references == null) {
            for (int i = 0; i < lines.size(); i++) {
                String line = strip(lines.get(i), i == 0);
                if (line.isBlank()) {
                    continue;
                }
                int tab = line.indexOf('\t');
                if (tab < 0) {
                    throw new IllegalArgumentException(pairs + ":" + (i + 1) + ": no tab: each line is SOURCE<TAB>REFERENCE "
                            + "(or give the references as a second file with --references)");
                }
                result.add(pair(pairs, i + 1, line.substring(0, tab), line.substring(tab + 1)));
            }
        } else {
            List<String> refs = Files.readAllLines(references, StandardCharsets.UTF_8);
            if (refs.size() != lines.size()) {
                throw new IllegalArgumentException(pairs + " has " + lines.size() + " lines and " + references + " has "
                        + refs.size() + ": the files must be aligned line by line");
            }
            for (int i = 0; i < lines.size(); i++) {
                String source = strip(lines.get(i), i == 0);
                String reference = strip(refs.get(i), i == 0);
                if (source.isBlank() && reference.isBlank()) {
                    continue;
                }
                result.add(pair(pairs, i + 1, source, reference));
            }
        }
        if (result.isEmpty()) {
            throw new IllegalArgumentException(pairs + " holds no sentence pairs");
        }
        return result;
    }

    private static Pair pair(Path file, int line, String source, String reference) {
        if (source.isBlank()) {
            throw new IllegalArgumentException(file + ":" + line + ": the source is empty");
        }
        return new Pair(line, source.strip(), reference.strip());
    }

    /** Drops a byte-order mark at the start of a file. */
    private static String strip(String line, boolean first) {
        return first && line.startsWith("\uFEFF") ? line.substring(1) : line;
    }
}
