package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * Broken GGUF files made from one small valid file that {@link GgufWriter} writes. Each case names the byte
 * where the reader should report the damage, found by searching the valid file for the key or tensor name the
 * case breaks (not by asking the reader under test), and the layout below is GGUF's as the spec gives it.
 */
public final class BrokenGgufCorpus {
    /** A broken file and the offset its error should name; {@code -1} means "anywhere up to the file's end". */
    public record Case(String name, byte[] bytes, long expectedOffset) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** The valid file's alignment; not the default, so that the alignment key is present to break. */
    public static final int ALIGNMENT = 64;
    static final long[] EMBD_SHAPE = {8, 5};
    static final long[] Q_SHAPE = {32, 4};
    static final long[] K_SHAPE = {32, 2};
    static final long[] NORM_SHAPE = {8};

    private final byte[] valid;

    private BrokenGgufCorpus(byte[] valid) {
        this.valid = valid;
    }

    /** Writes the valid file with GgufWriter into {@code dir} and derives the corpus from it. */
    public static BrokenGgufCorpus create(Path dir) throws IOException {
        Path file = dir.resolve("valid.gguf");
        writeValid(file);
        return new BrokenGgufCorpus(Files.readAllBytes(file));
    }

    public byte[] valid() {
        return valid.clone();
    }

    /** Four tensors (F32, Q8_0, Q4_0, F16) after metadata of every value type, with bytes 0, 1, 2, ... as data. */
    static void writeValid(Path file) throws IOException {
        GgufWriter w = new GgufWriter(ALIGNMENT);
        w.put("general.architecture", GgufValue.string("llama"));
        w.put("general.name", GgufValue.string("corpus"));
        w.put("llama.block_count", GgufValue.u32(1));
        w.put("test.u8", new GgufValue(GgufValueType.UINT8, null, 200));
        w.put("test.i8", new GgufValue(GgufValueType.INT8, null, (byte) -3));
        w.put("test.u16", new GgufValue(GgufValueType.UINT16, null, 60000));
        w.put("test.i16", new GgufValue(GgufValueType.INT16, null, (short) -300));
        w.put("test.i32", GgufValue.i32(-70000));
        w.put("test.f32", GgufValue.f32(0.5f));
        w.put("test.flag", GgufValue.bool(true));
        w.put("test.u64", new GgufValue(GgufValueType.UINT64, null, 1L << 40));
        w.put("test.i64", new GgufValue(GgufValueType.INT64, null, -(1L << 40)));
        w.put("test.f64", new GgufValue(GgufValueType.FLOAT64, null, 0.25));
        w.put("test.flags", new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false, true}));
        w.put("tokenizer.ggml.tokens", GgufValue.strings(new String[] {"<unk>", "<s>", "</s>", "ab", "cd"}));
        w.put("tokenizer.ggml.scores", GgufValue.floats(new float[] {0, 0, 0, -1, -2}));
        w.put("tokenizer.ggml.token_type", GgufValue.i32s(new int[] {2, 3, 3, 1, 1}));
        addCountingTensor(w, "token_embd.weight", GgmlType.F32, EMBD_SHAPE);
        addCountingTensor(w, "blk.0.attn_q.weight", GgmlType.Q8_0, Q_SHAPE);
        addCountingTensor(w, "blk.0.attn_k.weight", GgmlType.Q4_0, K_SHAPE);
        addCountingTensor(w, "output_norm.weight", GgmlType.F16, NORM_SHAPE);
        w.write(file);
    }

    private static void addCountingTensor(GgufWriter w, String name, GgmlType type, long[] shape) {
        w.addTensor(name, type, shape, out -> {
            for (int i = 0; out.hasRemaining(); i++) {
                out.put((byte) i);
            }
        });
    }

    /** Every case below; together they touch each field of the header, metadata and tensor infos. */
    public List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        cases.add(new Case("empty file", new byte[0], 0));
        cases.add(new Case("three bytes", Arrays.copyOf(valid, 3), 0));
        cases.add(mutate("bad magic", 0, b -> b.put(0, (byte) 'X')));
        for (int version : new int[] {0, 1, 4, 0x03000000, -1}) {
            cases.add(mutate("version " + Integer.toUnsignedString(version), 4, b -> b.putInt(4, version)));
        }
        for (long count : new long[] {1L << 63, (1L << 32) + 3, -1, 1L << 40}) {
            cases.add(mutate("tensor count " + Long.toUnsignedString(count), 8, b -> b.putLong(8, count)));
            cases.add(mutate("metadata count " + Long.toUnsignedString(count), 16, b -> b.putLong(16, count)));
        }
        cases.add(mutate("one tensor too many", -1, b -> b.putLong(8, 5)));
        cases.add(mutate("one metadata pair too few", -1, b -> b.putLong(16, b.getLong(16) - 1)));
        cases.add(mutate("one metadata pair too many", -1, b -> b.putLong(16, b.getLong(16) + 1)));

        // metadata: key strings, value types, arrays
        long firstKey = keyAt("general.alignment");
        for (long length : new long[] {1L << 63, (1L << 32) + 5, -1, valid.length}) {
            cases.add(mutate("key length " + Long.toUnsignedString(length), firstKey, b -> b.putLong((int) firstKey, length)));
        }
        long nameValue = valueAt("general.name") + 4;
        cases.add(mutate("string value length 2^32+1", nameValue, b -> b.putLong((int) nameValue, (1L << 32) + 1)));
        cases.add(mutate("string value length past the end", nameValue, b -> b.putLong((int) nameValue, valid.length)));
        for (int type : new int[] {13, 255, -1}) {
            long at = valueAt("test.u8");
            cases.add(mutate("value type " + Integer.toUnsignedString(type), at, b -> b.putInt((int) at, type)));
        }
        long tokens = valueAt("tokenizer.ggml.tokens");
        cases.add(mutate("nested array", tokens + 4, b -> b.putInt((int) tokens + 4, GgufValueType.ARRAY.id())));
        cases.add(mutate("array of unknown type", tokens + 4, b -> b.putInt((int) tokens + 4, 99)));
        for (long length : new long[] {1L << 63, (1L << 32) + 7, -1, 1L << 30}) {
            cases.add(mutate("array length " + Long.toUnsignedString(length), tokens + 8,
                    b -> b.putLong((int) tokens + 8, length)));
        }
        long scores = valueAt("tokenizer.ggml.scores");
        cases.add(mutate("float array longer than the file", scores + 8, b -> b.putLong((int) scores + 8, valid.length / 4)));
        long unk = indexOf("<unk>");
        cases.add(mutate("invalid UTF-8 (0xFF)", unk, b -> b.put((int) unk, (byte) 0xFF)));
        cases.add(mutate("invalid UTF-8 (overlong NUL)", unk, b -> b.put((int) unk, (byte) 0xC0).put((int) unk + 1, (byte) 0x80)));
        cases.add(mutate("invalid UTF-8 (lone continuation byte)", unk + 2, b -> b.put((int) unk + 2, (byte) 0x80)));
        cases.add(mutate("invalid UTF-8 (surrogate)", unk, b -> b.put((int) unk, (byte) 0xED).put((int) unk + 1, (byte) 0xA0)
                .put((int) unk + 2, (byte) 0x80)));
        long flag = valueAt("test.flag") + 4;
        cases.add(mutate("bool value 2", flag, b -> b.put((int) flag, (byte) 2)));
        long flags = valueAt("test.flags") + 4 + 4 + 8;
        cases.add(mutate("bool array element 0xFF", flags + 1, b -> b.put((int) flags + 1, (byte) 0xFF)));
        long i8Key = keyAt("test.i8");
        cases.add(mutate("duplicate key", i8Key, b -> b.put((int) i8Key + 8 + "test.".length(), (byte) 'u')));
        cases.add(mutate("empty key", keyAt("test.u8"), b -> b.putLong((int) keyAt("test.u8"), 0)));

        // general.alignment: type and value
        long align = valueAt("general.alignment");
        cases.add(mutate("alignment typed INT32", align, b -> b.putInt((int) align, GgufValueType.INT32.id())));
        cases.add(mutate("alignment typed FLOAT32", align, b -> b.putInt((int) align, GgufValueType.FLOAT32.id())));
        for (int value : new int[] {0, 48, -1}) {
            cases.add(mutate("alignment " + Integer.toUnsignedString(value), align, b -> b.putInt((int) align + 4, value)));
        }
        // a smaller power of two: the tensors' offsets no longer follow one another
        cases.add(mutate("alignment 32 for a file laid out with 64", offsetFieldOf("blk.0.attn_q.weight"),
                b -> b.putInt((int) align + 4, 32)));
        cases.add(mutate("alignment 128 for a file laid out with 64", offsetFieldOf("blk.0.attn_q.weight"),
                b -> b.putInt((int) align + 4, 128)));

        // tensor infos
        long q = tensorAt("blk.0.attn_q.weight");
        long qDims = q + 8 + "blk.0.attn_q.weight".length();
        // the 70 bytes after the first tensor's name are its other fields and the next name: all ASCII
        long embd = tensorAt("token_embd.weight");
        cases.add(mutate("tensor name length 70", embd, b -> b.putLong((int) embd, 70)));
        cases.add(mutate("tensor name length 2^63", q, b -> b.putLong((int) q, 1L << 63)));
        long k = tensorAt("blk.0.attn_k.weight");
        cases.add(mutate("duplicate tensor name", k, b -> b.put((int) k + 8 + "blk.0.attn_".length(), (byte) 'q')));
        for (int nDims : new int[] {0, 5, -1}) {
            cases.add(mutate("n_dims " + Integer.toUnsignedString(nDims), qDims, b -> b.putInt((int) qDims, nDims)));
        }
        long dim0 = qDims + 4;
        long dim1 = dim0 + 8;
        cases.add(mutate("zero dimension", dim1, b -> b.putLong((int) dim1, 0)));
        cases.add(mutate("dimension 2^63", dim0, b -> b.putLong((int) dim0, 1L << 63)));
        cases.add(mutate("dimension -1", dim1, b -> b.putLong((int) dim1, -1)));
        cases.add(mutate("dimensions overflowing 2^63 elements", dim1, b -> b.putLong((int) dim1, 1L << 62)));
        cases.add(mutate("huge dimension (2^40 rows)", offsetFieldOf("blk.0.attn_q.weight"), b -> b.putLong((int) dim1, 1L << 40)));
        long embdDims = embd + 8 + "token_embd.weight".length();
        cases.add(mutate("dimensions overflowing 2^63 bytes", embdDims, b -> b.putLong((int) embdDims + 12, 1L << 59)));
        cases.add(mutate("row length not a multiple of the block", qDims, b -> b.putLong((int) dim0, 33)));
        long qType = dim1 + 8;
        for (int type : new int[] {4, 99, 1 << 20, -1}) {
            cases.add(mutate("tensor type " + Integer.toUnsignedString(type), qType, b -> b.putInt((int) qType, type)));
        }
        long qOffset = offsetFieldOf("blk.0.attn_q.weight");
        long qValid = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong((int) qOffset);
        cases.add(mutate("misaligned tensor offset", qOffset, b -> b.putLong((int) qOffset, qValid + 1)));
        cases.add(mutate("overlapping tensor offset", qOffset, b -> b.putLong((int) qOffset, 0)));
        cases.add(mutate("gap before a tensor", qOffset, b -> b.putLong((int) qOffset, qValid + ALIGNMENT)));
        cases.add(mutate("tensor offset past the end", qOffset, b -> b.putLong((int) qOffset, 1L << 40)));
        cases.add(mutate("tensor offset 2^63", qOffset, b -> b.putLong((int) qOffset, 1L << 63)));
        cases.add(mutate("tensor offset 2^64-64", qOffset, b -> b.putLong((int) qOffset, -64)));
        cases.add(mutate("tensor offset 2^63-64 (offset + size overflows)", qOffset, b -> b.putLong((int) qOffset, Long.MAX_VALUE - 63)));
        long lastOffset = offsetFieldOf("output_norm.weight");
        cases.add(new Case("last tensor's data cut short", Arrays.copyOf(valid, (int) lastTensorEnd() - 1), lastOffset));

        // truncation at every section boundary and inside each section
        List<Long> cuts = new ArrayList<>(List.of(4L, 6L, 8L, 12L, 16L, 20L, 24L));
        for (String key : keys()) {
            long at = keyAt(key);
            cuts.addAll(List.of(at, at + 4, at + 8, at + 9, valueAt(key), valueAt(key) + 2, valueAt(key) + 5));
        }
        for (String tensor : new String[] {"token_embd.weight", "blk.0.attn_q.weight", "blk.0.attn_k.weight", "output_norm.weight"}) {
            long at = tensorAt(tensor);
            cuts.addAll(List.of(at, at + 3, at + 8, at + 10, offsetFieldOf(tensor) - 4, offsetFieldOf(tensor), offsetFieldOf(tensor) + 7));
        }
        long infosEnd = offsetFieldOf("output_norm.weight") + 8;
        cuts.addAll(List.of(infosEnd, infosEnd + 1, alignUp(infosEnd) - 1, alignUp(infosEnd), alignUp(infosEnd) + 100));
        for (long cut : cuts) {
            cases.add(new Case("truncated at " + cut, Arrays.copyOf(valid, (int) cut), -1));
        }
        return cases;
    }

    /** The metadata keys of the valid file, in file order. */
    static List<String> keys() {
        return List.of("general.alignment", "general.architecture", "general.name", "llama.block_count", "test.u8",
                "test.i8", "test.u16", "test.i16", "test.i32", "test.f32", "test.flag", "test.u64", "test.i64",
                "test.f64", "test.flags", "tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type");
    }

    /** Where the valid file's last tensor's data ends: any shorter file lacks some tensor bytes. */
    public long lastTensorEnd() {
        long last = alignUp(offsetFieldOf("output_norm.weight") + 8)
                + ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong((int) offsetFieldOf("output_norm.weight"));
        return last + NORM_SHAPE[0] * 2;
    }

    private Case mutate(String name, long expectedOffset, Consumer<ByteBuffer> change) {
        ByteBuffer b = ByteBuffer.wrap(valid.clone()).order(ByteOrder.LITTLE_ENDIAN);
        change.accept(b);
        return new Case(name, b.array(), expectedOffset);
    }

    /** Offset of a key's u64 length field. */
    long keyAt(String key) {
        return indexOf(key) - 8;
    }

    /** Offset of a key's value: its u32 type field. */
    long valueAt(String key) {
        return indexOf(key) + key.length();
    }

    /** Offset of a tensor info: its name's u64 length field (no metadata string is a tensor name). */
    long tensorAt(String name) {
        return indexOf(name) - 8;
    }

    /** Offset of a tensor info's u64 data offset field. */
    long offsetFieldOf(String name) {
        long dims = indexOf(name) + name.length();
        int nDims = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getInt((int) dims);
        return dims + 4 + 8L * nDims + 4;
    }

    private static long alignUp(long x) {
        return (x + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** First occurrence of a string's bytes that is preceded by its own u64 length, as GGUF strings are. */
    private long indexOf(String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        for (int i = 8; i + needle.length <= valid.length; i++) {
            if (Arrays.equals(valid, i, i + needle.length, needle, 0, needle.length)
                    && ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(i - 8) == needle.length) {
                return i;
            }
        }
        throw new IllegalArgumentException("'" + s + "' is not a string of the valid file");
    }
}
