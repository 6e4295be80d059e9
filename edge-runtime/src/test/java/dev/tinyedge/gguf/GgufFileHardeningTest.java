package dev.tinyedge.gguf;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Truncated, corrupt and hostile files fail with a GgufFormatException naming a sensible offset, quickly. */
class GgufFileHardeningTest {
    private static final long MAX_NANOS_PER_FILE = 1_000_000_000L;

    @TestFactory
    Stream<DynamicTest> everyBrokenFileIsAFormatErrorAtTheRightOffset(@TempDir Path dir) throws IOException {
        BrokenGgufCorpus corpus = BrokenGgufCorpus.create(dir);
        return corpus.cases().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Path file = dir.resolve("case.gguf");
            Files.write(file, c.bytes());
            GgufFormatException e = expectFormatError(file);
            if (c.expectedOffset() >= 0) {
                assertEquals(c.expectedOffset(), e.offset(), e.getMessage());
            } else {
                assertTrue(e.offset() >= 0 && e.offset() <= c.bytes().length, e.getMessage());
            }
            assertTrue(e.getMessage().endsWith(" at offset " + e.offset()), e.getMessage());
        }));
    }

    @Test
    void truncationAtEveryByteFailsUntilAllTensorDataIsThere(@TempDir Path dir) throws Exception {
        BrokenGgufCorpus corpus = BrokenGgufCorpus.create(dir);
        byte[] valid = corpus.valid();
        Path file = dir.resolve("cut.gguf");
        for (int length = 0; length <= valid.length; length++) {
            Files.write(file, java.util.Arrays.copyOf(valid, length));
            if (length < corpus.lastTensorEnd()) {
                GgufFormatException e = expectFormatError(file);
                assertTrue(e.offset() <= length, "cut at " + length + ": " + e.getMessage());
            } else {
                // only the last tensor's padding is missing, which llama.cpp does not need either
                try (GgufFile gguf = GgufFile.open(file)) {
                    assertEquals(4, gguf.tensors().size());
                }
            }
        }
    }

    @Test
    void randomByteFlipsGiveAFormatErrorOrAFileWhoseContentsCanAllBeRead(@TempDir Path dir) throws Exception {
        byte[] valid = BrokenGgufCorpus.create(dir).valid();
        Random random = new Random(20261126);
        Path file = dir.resolve("fuzz.gguf");
        int failures = 0;
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = valid.clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) {
                // mostly the header, where a flipped byte changes what is parsed
                int at = random.nextInt(4) == 0 ? random.nextInt(bytes.length) : random.nextInt(bytes.length / 2);
                bytes[at] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : (byte) (bytes[at] ^ (1 << random.nextInt(8)));
            }
            Files.write(file, bytes);
            long start = System.nanoTime();
            try (GgufFile gguf = GgufFile.open(file)) {
                for (GgufTensorInfo t : gguf.tensors()) {
                    gguf.data(t).get(ValueLayout.JAVA_BYTE, t.byteSize() - 1);
                }
            } catch (GgufFormatException e) {
                failures++;
                assertTrue(e.offset() >= 0 && e.offset() <= bytes.length, e.getMessage());
            } catch (Throwable t) {
                fail("iteration " + i + ": " + t, t);
            }
            assertTrue(System.nanoTime() - start < MAX_NANOS_PER_FILE, "iteration " + i + " was slow");
        }
        assertTrue(failures > 500, "the fuzzer broke only " + failures + " of 2000 files");
    }

    /** An array length that fits in a (sparse) 256 MiB file still stops at the header cap, before allocating. */
    @Test
    void metadataBeyondTheHeaderCapIsRefusedBeforeItIsRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("huge-header.gguf");
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        byte[] key = "test.blob".getBytes(StandardCharsets.UTF_8);
        b.putInt(GgufFile.MAGIC).putInt(3).putLong(0).putLong(1);
        b.putLong(key.length).put(key).putInt(GgufValueType.ARRAY.id()).putInt(GgufValueType.UINT8.id());
        int countAt = b.position();
        b.putLong(200L << 20);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.write(b.array(), 0, b.position());
            raf.setLength(256L << 20);
        }
        GgufFormatException e = expectFormatError(file);
        assertEquals(countAt, e.offset(), e.getMessage());
    }

    @Test
    void theValidFileOfTheCorpusOpensWithItsTensorsInPlace(@TempDir Path dir) throws Exception {
        BrokenGgufCorpus.create(dir);
        try (GgufFile gguf = GgufFile.open(dir.resolve("valid.gguf"))) {
            assertEquals(BrokenGgufCorpus.ALIGNMENT, gguf.alignment());
            assertEquals(BrokenGgufCorpus.keys(), java.util.List.copyOf(gguf.metadata().keySet()));
            GgufTensorInfo q = gguf.tensor("blk.0.attn_q.weight");
            byte[] expected = new byte[4 * 34];
            for (int i = 0; i < expected.length; i++) {
                expected[i] = (byte) i;
            }
            assertArrayEquals(expected, gguf.data(q).toArray(ValueLayout.JAVA_BYTE));
        }
    }

    @Test
    void namesInErrorsAreQuotedCutShortAndFreeOfControlCharacters() {
        assertEquals("'blk.0.attn_q.weight'", GgufFile.quoted("blk.0.attn_q.weight"));
        assertEquals("'a\\u000ab\\u001b[31m'", GgufFile.quoted("a\nb\u001b[31m"));
        assertEquals("'" + "x".repeat(80) + "...'", GgufFile.quoted("x".repeat(1 << 20)));
    }

    private static GgufFormatException expectFormatError(Path file) {
        long start = System.nanoTime();
        try (GgufFile gguf = GgufFile.open(file)) {
            fail("opened " + gguf);
            return null;
        } catch (GgufFormatException e) {
            long nanos = System.nanoTime() - start;
            assertTrue(nanos < MAX_NANOS_PER_FILE, "took " + nanos / 1_000_000 + " ms: " + e.getMessage());
            return e;
        } catch (Throwable t) {
            return fail("expected a GgufFormatException, got " + t, t);
        }
    }
}
