package dev.tinyedge.eval;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A test set: sources and their human translations, from a TSV file ({@code source<TAB>reference} per line,
 * blank lines skipped) or from two files aligned line by line (lines blank in both skipped). Whatever cannot be
 * scored as it stands (text that is not UTF-8, a third column, an empty source or reference) is refused with
 * an IllegalArgumentException that names the file and line.
 */
public final class SentencePairs {
    /** Far above any test set (FLORES-200's devtest is 0.3 MB a language), so that a wrong file is refused. */
    public static final long MAX_FILE_BYTES = 64L << 20;

    /** @param line the 1-based line in the file(s) it came from */
    public record Pair(int line, String source, String reference) {
    }

    private SentencePairs() {
    }

    /** @param references null for a TSV file */
    public static List<Pair> read(Path pairs, Path references) throws IOException {
        List<String> lines = readLines(pairs);
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
                if (line.indexOf('\t', tab + 1) >= 0) {
                    throw new IllegalArgumentException(pairs + ":" + (i + 1) + ": more than one tab: each line is "
                            + "SOURCE<TAB>REFERENCE");
                }
                result.add(pair(pairs, i + 1, line.substring(0, tab), line.substring(tab + 1)));
            }
        } else {
            List<String> refs = readLines(references);
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
        if (reference.isBlank()) {
            throw new IllegalArgumentException(file + ":" + line + ": the reference is empty");
        }
        return new Pair(line, source.strip(), reference.strip());
    }

    /**
     * The lines of a UTF-8 text file (split at \n, \r\n or \r, as {@link Files#readAllLines} does); a file that
     * is too large or not UTF-8 is refused with an IllegalArgumentException that says where.
     */
    public static List<String> readLines(Path file) throws IOException {
        if (Files.size(file) > MAX_FILE_BYTES) {
            throw new IllegalArgumentException(file + " is over " + (MAX_FILE_BYTES >> 20) + " MB: not a test set");
        }
        byte[] bytes = Files.readAllBytes(file);
        CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult result = utf8.decode(in, out, true);
        if (!result.isError()) {
            result = utf8.flush(out);
        }
        if (result.isError()) {
            int line = 1;
            for (int i = 0; i < in.position(); i++) {
                line += bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 >= bytes.length || bytes[i + 1] != '\n')) ? 1 : 0;
            }
            throw new IllegalArgumentException(file + ":" + line + ": not UTF-8 text (byte " + in.position() + ")");
        }
        return out.flip().toString().lines().toList();
    }

    /** Drops a byte-order mark at the start of a file. */
    private static String strip(String line, boolean first) {
        return first && line.startsWith("\uFEFF") ? line.substring(1) : line;
    }
}
