package dev.tinyedge.gguf;

import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What GgufWriter writes, GgufFile reads back: every value type, every tensor type, in place and aligned. */
class GgufRoundTripTest {

    /** Written values and the Java values the reader is documented to return for them (unsigned widened). */
    private static Map<String, Object[]> scalars() {
        Map<String, Object[]> m = new LinkedHashMap<>();
        m.put("u8", new Object[] {GgufValueType.UINT8, 250, 250});
        m.put("i8", new Object[] {GgufValueType.INT8, (byte) -128, (byte) -128});
        m.put("u16", new Object[] {GgufValueType.UINT16, 65535, 65535});
        m.put("i16", new Object[] {GgufValueType.INT16, (short) -32768, (short) -32768});
        m.put("u32", new Object[] {GgufValueType.UINT32, 4294967295L, 4294967295L});
        m.put("i32", new Object[] {GgufValueType.INT32, Integer.MIN_VALUE, Integer.MIN_VALUE});
        m.put("f32", new Object[] {GgufValueType.FLOAT32, -1.5e-7f, -1.5e-7f});
        m.put("bool.true", new Object[] {GgufValueType.BOOL, true, true});
        m.put("bool.false", new Object[] {GgufValueType.BOOL, false, false});
        m.put("string", new Object[] {GgufValueType.STRING, "héllo, 世界 🦙", "héllo, 世界 🦙"});
        m.put("string.empty", new Object[] {GgufValueType.STRING, "", ""});
        m.put("u64", new Object[] {GgufValueType.UINT64, -1L, -1L}); // 2^64-1, as Long bits
        m.put("i64", new Object[] {GgufValueType.INT64, Long.MIN_VALUE, Long.MIN_VALUE});
        m.put("f64", new Object[] {GgufValueType.FLOAT64, Math.PI, Math.PI});
        return m;
    }

    private static Map<GgufValueType, Object> arrays() {
        Map<GgufValueType, Object> m = new LinkedHashMap<>();
        m.put(GgufValueType.UINT8, new byte[] {0, 1, (byte) 255});
        m.put(GgufValueType.INT8, new byte[] {-128, 0, 127});
        m.put(GgufValueType.UINT16, new short[] {0, (short) 65535});
        m.put(GgufValueType.INT16, new short[] {-32768, 32767});
        m.put(GgufValueType.UINT32, new int[] {0, -1});
        m.put(GgufValueType.INT32, new int[] {Integer.MIN_VALUE, 7, Integer.MAX_VALUE});
        m.put(GgufValueType.FLOAT32, new float[] {0f, -0f, Float.MIN_VALUE, Float.NaN, Float.POSITIVE_INFINITY});
        m.put(GgufValueType.BOOL, new boolean[] {true, false, false, true});
        m.put(GgufValueType.STRING, new String[] {"", "<s>", "▁the", "\u0000", "🦙"});
        m.put(GgufValueType.UINT64, new long[] {0, -1});
        m.put(GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE});
        m.put(GgufValueType.FLOAT64, new double[] {Double.MIN_VALUE, -Double.MAX_VALUE});
        return m;
    }

    @Test
    void everyMetadataTypeAndArrayTypeComesBackAsWritten(@TempDir Path dir) throws Exception {
        GgufWriter writer = new GgufWriter();
        scalars().forEach((key, v) -> writer.put("scalar." + key, new GgufValue((GgufValueType) v[0], null, v[1])));
        arrays().forEach((type, a) -> writer.put("array." + type, new GgufValue(GgufValueType.ARRAY, type, a)));
        writer.put("array.empty", new GgufValue(GgufValueType.ARRAY, GgufValueType.INT32, new int[0]));
        Path file = dir.resolve("meta.gguf");
        writer.write(file);

        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(3, gguf.version());
            assertEquals(scalars().size() + arrays().size() + 1, gguf.metadata().size());
            scalars().forEach((key, v) -> {
                GgufValue read = gguf.get("scalar." + key);
                assertEquals(v[0], read.type(), key);
                assertEquals(v[2], read.value(), key);
            });
            arrays().forEach((type, a) -> {
                GgufValue read = gguf.get("array." + type);
                assertEquals(GgufValueType.ARRAY, read.type());
                assertEquals(type, read.elementType());
                assertEquals(a.getClass(), read.value().getClass(), type.toString());
                assertArrayEquals(new Object[] {a}, new Object[] {read.value()}, type.toString()); // deep equality
            });
            assertEquals(0, gguf.get("array.empty").length());
            assertEquals(0, gguf.tensors().size());
        }
    }

    /** The layout a reader must find: header, metadata, tensor infos, zero padding to the alignment, data. */
    @Test
    void theHeaderBytesAreTheOnesTheSpecDescribes(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tiny.gguf");
        new GgufWriter()
                .put("k", GgufValue.u32(7))
                .addTensor("t", GgmlType.F32, new long[] {2}, out -> out.putFloat(1f).putFloat(2f))
                .write(file);
        ByteBuffer expected = ByteBuffer.allocate(128).order(ByteOrder.LITTLE_ENDIAN);
        expected.put("GGUF".getBytes()).putInt(3).putLong(1).putLong(1);
        expected.putLong(1).put((byte) 'k').putInt(4).putInt(7);                // key "k", UINT32 7
        expected.putLong(1).put((byte) 't').putInt(1).putLong(2).putInt(0).putLong(0); // "t", 1 dim of 2, F32, offset 0
        expected.position(96);                                                     // 74 header bytes, padded to 32
        expected.putFloat(1f).putFloat(2f);
        // the writer pads the last tensor to the alignment too, as llama.cpp's writers do
        assertArrayEquals(expected.array(), Files.readAllBytes(file));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 32, 64, 4096})
    void tensorsOfEveryTypeAreReadInPlaceAtAlignedOffsets(int alignment, @TempDir Path dir) throws Exception {
        Random random = new Random(alignment);
        GgufWriter writer = new GgufWriter(alignment);
        Map<String, byte[]> written = new LinkedHashMap<>();
        for (GgmlType type : GgmlType.values()) {
            // odd row counts and a 3-d tensor so that sizes are not multiples of the alignment
            long[] shape = type.ordinal() % 2 == 0 ? new long[] {type.blockSize * 3L, 5} : new long[] {type.blockSize, 3, 2};
            long elements = shape.length == 2 ? shape[0] * shape[1] : shape[0] * shape[1] * shape[2];
            byte[] bytes = new byte[(int) type.byteSize(elements)];
            random.nextBytes(bytes);
            written.put(type.name().toLowerCase() + ".weight", bytes);
            writer.addTensor(type.name().toLowerCase() + ".weight", type, shape, out -> out.put(bytes));
        }
        Path file = dir.resolve("tensors.gguf");
        writer.write(file);

        try (GgufFile gguf = GgufFile.open(file)) {
            assertEquals(alignment, gguf.alignment());
            assertEquals(0, gguf.dataOffset() % alignment);
            List<GgufTensorInfo> tensors = gguf.tensors();
            assertEquals(GgmlType.values().length, tensors.size());
            for (GgufTensorInfo t : tensors) {
                assertEquals(0, t.offset() % alignment, t.name());
                assertEquals(t.name(), t.type().name().toLowerCase() + ".weight");
                byte[] expected = written.get(t.name());
                assertEquals(expected.length, t.byteSize());
                assertArrayEquals(expected, gguf.data(t).toArray(ValueLayout.JAVA_BYTE), t.name());
                // in place: slices of the one mapping, as far apart as the offsets say
                assertTrue(gguf.data(t).isMapped(), t.name());
                assertEquals(t.offset(), gguf.data(t).address() - gguf.data(tensors.getFirst()).address(), t.name());
            }
        }
    }

    @Test
    void theWriterRefusesWhatTheReaderWouldReject() {
        GgufWriter writer = new GgufWriter();
        writer.addTensor("a", GgmlType.F32, new long[] {1}, out -> out.putFloat(0));
        assertThrows(IllegalArgumentException.class, () -> writer.addTensor("a", GgmlType.F32, new long[] {1}, out -> { }));
        assertThrows(IllegalArgumentException.class, () -> writer.addTensor("x".repeat(64), GgmlType.F32, new long[] {1}, out -> { }));
        assertThrows(IllegalArgumentException.class, () -> writer.addTensor("q", GgmlType.Q4_0, new long[] {16}, out -> { }));
        assertThrows(IllegalArgumentException.class, () -> new GgufWriter(48));
        assertThrows(IllegalArgumentException.class, () -> writer.put("", GgufValue.u32(1)));
        assertThrows(IllegalArgumentException.class,
                () -> new GgufValue(GgufValueType.ARRAY, GgufValueType.UINT16, new int[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new GgufValue(GgufValueType.STRING, null, 5));
    }
}
