package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.eval.Chrf;
import dev.tinyedge.eval.Evaluation;
import dev.tinyedge.eval.SentencePairs;
import dev.tinyedge.translate.Language;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any bytes as the test set of {@code tinyedge eval}: a TSV file of {@code source<TAB>reference} lines, and (split
 * at the first NUL byte) a file of sources with a file of references aligned to it. Each is read, or refused with
 * the IllegalArgumentException that the command turns into one {@code tinyedge: error:} line naming the file;
 * what is read can be scored: every pair has a source and a reference, and chrF and chrF++ over it are scores.
 */
class EvalPairsFuzzTest {
    private static final Path DIR = scratchDir();
    private static final Path TSV = DIR.resolve("pairs.tsv");
    private static final Path SOURCES = DIR.resolve("sources.txt");
    private static final Path REFERENCES = DIR.resolve("references.txt");
    private static final Language TARGET = Language.of("es").orElseThrow();

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    // No tab, line feed or carriage return here: Jazzer 0.30.0 writes control characters that Java counts as
    // whitespace into the dictionary file unescaped, and libFuzzer then refuses the file (the seeds have them).
    // Entries are UTF-8 text, so bytes that are not UTF-8 come from the seeds and the mutations.
    @DictionaryEntries({"\u0000", "\uFEFF", " ", "\u00a0", "\u2028", "\u0085", "\u00e9", "\ud83d\ude00", "\u0301"})
    void readsOrRefusesAnyPairs(byte[] bytes) throws IOException {
        Files.write(TSV, bytes);
        check(TSV, null);
        int nul = indexOf(bytes, (byte) 0);
        if (nul >= 0) {
            Files.write(SOURCES, Arrays.copyOfRange(bytes, 0, nul));
            Files.write(REFERENCES, Arrays.copyOfRange(bytes, nul + 1, bytes.length));
            check(SOURCES, REFERENCES);
        }
    }

    private static void check(Path pairsFile, Path referencesFile) throws IOException {
        List<SentencePairs.Pair> pairs;
        try {
            pairs = SentencePairs.read(pairsFile, referencesFile);
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            assertTrue(message != null && (message.startsWith(pairsFile.toString())
                    || referencesFile != null && message.startsWith(referencesFile.toString())), message);
            return;
        }
        assertFalse(pairs.isEmpty());
        int previousLine = 0;
        for (SentencePairs.Pair pair : pairs) {
            assertTrue(pair.line() > previousLine, "line " + pair.line());
            previousLine = pair.line();
            assertFalse(pair.source().isBlank(), "blank source");
            assertFalse(pair.reference().isBlank(), "blank reference");
            assertEquals(pair.source().strip(), pair.source());
            assertEquals(pair.reference().strip(), pair.reference());
            if (referencesFile == null) {
                assertFalse(pair.source().contains("\t") || pair.reference().contains("\t"), "a third column");
            }
            for (Chrf chrf : List.of(Chrf.chrF(), Chrf.chrFPlusPlus())) {
                assertScore(chrf.sentenceScore(pair.source(), pair.reference()));
            }
        }
        // what eval scores: the sources as the hypotheses (a system that copies its input)
        List<String> sources = pairs.stream().map(SentencePairs.Pair::source).toList();
        Evaluation.Report report = Evaluation.score("copy", pairs, sources, null, TARGET, 3);
        assertEquals(pairs.size(), report.pairs());
        assertScore(report.chrf());
        assertScore(report.chrfPlusPlus());
    }

    private static void assertScore(double score) {
        assertTrue(score >= 0 && score <= 100, "score " + score);
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private static Path scratchDir() {
        try {
            Path dir = Files.createTempDirectory("tinyedge-fuzz-eval");
            dir.toFile().deleteOnExit();
            for (String name : List.of("pairs.tsv", "sources.txt", "references.txt")) {
                dir.resolve(name).toFile().deleteOnExit();
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
