package dev.tinyedge.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The other direction of {@link PythonGgufWriterTest}: a file GgufWriter writes, read by llama.cpp's own Python
 * reader (gguf-py 0.19.0, tests/python/read_gguf.py), holds exactly the keys and tensor bytes that were written.
 */
class PythonGgufReaderTest {

    @Test
    void ggufPyReadsEveryKeyAndTensorGgufWriterWrote(@TempDir Path dir) throws Exception {
        Map<String, GgufValue> metadata = new LinkedHashMap<>();
        metadata.put("general.alignment", GgufValue.u32(64)); // the writer puts it first for a custom alignment
        metadata.put("general.architecture", GgufValue.string("llama"));
        metadata.put("test.u8", new GgufValue(GgufValueType.UINT8, null, 250));
        metadata.put("test.i8", new GgufValue(GgufValueType.INT8, null, (byte) -128));
        metadata.put("test.u16", new GgufValue(GgufValueType.UINT16, null, 65535));
        metadata.put("test.i16", new GgufValue(GgufValueType.INT16, null, (short) -32768));
        metadata.put("test.u32", GgufValue.u32(4294967295L));
        metadata.put("test.i32", GgufValue.i32(Integer.MIN_VALUE));
        metadata.put("test.f32", GgufValue.f32(0.1f));
        metadata.put("test.bool", GgufValue.bool(true));
        metadata.put("test.string", GgufValue.string("héllo, 世界 🦙"));
        metadata.put("test.u64", new GgufValue(GgufValueType.UINT64, null, -1L));
        metadata.put("test.i64", new GgufValue(GgufValueType.INT64, null, Long.MIN_VALUE));
        metadata.put("test.f64", new GgufValue(GgufValueType.FLOAT64, null, 0.1));
        metadata.put("test.array.u8", new GgufValue(GgufValueType.ARRAY, GgufValueType.UINT8, new byte[] {0, (byte) 255}));
        metadata.put("test.array.i16", new GgufValue(GgufValueType.ARRAY, GgufValueType.INT16, new short[] {-32768, 7}));
        metadata.put("test.array.u32", new GgufValue(GgufValueType.ARRAY, GgufValueType.UINT32, new int[] {0, -1}));
        metadata.put("test.array.i64", new GgufValue(GgufValueType.ARRAY, GgufValueType.INT64, new long[] {Long.MIN_VALUE, 1}));
        metadata.put("test.array.f32", GgufValue.floats(new float[] {0.1f, -2.5f}));
        metadata.put("test.array.f64", new GgufValue(GgufValueType.ARRAY, GgufValueType.FLOAT64, new double[] {0.1, -1e300}));
        metadata.put("test.array.bool", new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false}));
        metadata.put("test.array.string", GgufValue.strings(new String[] {"", "▁the", "🦙"}));

        GgufWriter writer = new GgufWriter(64);
        metadata.forEach((key, value) -> {
            if (!key.equals("general.alignment")) {
                writer.put(key, value);
            }
        });
        Random random = new Random(7);
        Map<String, byte[]> tensors = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (GgmlType type : List.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q6_K)) {
            long[] shape = {type.blockSize * 2L, 3};
            byte[] bytes = new byte[(int) type.byteSize(shape[0] * shape[1])];
            random.nextBytes(bytes);
            String name = "t." + type.name().toLowerCase();
            tensors.put(name, bytes);
            shapes.put(name, shape);
            writer.addTensor(name, type, shape, out -> out.put(bytes));
        }
        Path file = dir.resolve("written-by-tinyedge.gguf");
        writer.write(file);

        JsonNode read = new ObjectMapper().readTree(readWithGgufPy(file));
        assertEquals(3, read.get("version").asInt());
        assertEquals(64, read.get("alignment").asInt());
        List<String> keys = new ArrayList<>();
        read.get("metadata").fieldNames().forEachRemaining(keys::add);
        assertEquals(List.copyOf(metadata.keySet()), keys);
        metadata.forEach((key, value) -> {
            JsonNode node = read.get("metadata").get(key);
            assertEquals(value.type().name(), node.get("type").asText(), key);
            if (value.type() != GgufValueType.ARRAY) {
                assertEquals(PythonGgufWriterTest.canonical(value.type(), value.value()),
                        PythonGgufWriterTest.canonical(value.type(), node.get("value")), key);
                return;
            }
            assertEquals(value.elementType().name(), node.get("element_type").asText(), key);
            assertEquals(value.length(), node.get("value").size(), key);
            for (int i = 0; i < value.length(); i++) {
                assertEquals(PythonGgufWriterTest.canonical(value.elementType(), Array.get(value.value(), i)),
                        PythonGgufWriterTest.canonical(value.elementType(), node.get("value").get(i)), key + "[" + i + "]");
            }
        });
        List<String> names = new ArrayList<>();
        read.get("tensors").fieldNames().forEachRemaining(names::add);
        assertEquals(List.copyOf(tensors.keySet()), names);
        for (String name : names) {
            JsonNode t = read.get("tensors").get(name);
            assertEquals(name.substring(2).toUpperCase(), t.get("type").asText(), name);
            assertEquals(shapes.get(name)[0], t.get("shape").get(0).asLong(), name);
            assertEquals(shapes.get(name)[1], t.get("shape").get(1).asLong(), name);
            assertEquals(tensors.get(name).length, t.get("nbytes").asLong(), name);
            assertEquals(0, t.get("data_offset").asLong() % 64, name);
            String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(tensors.get(name)));
            assertEquals(sha, t.get("sha256").asText(), name);
        }
    }

    private static String readWithGgufPy(Path file) throws Exception {
        Process p = new ProcessBuilder(PythonGgufWriterTest.python(),
                PythonGgufWriterTest.ROOT.resolve("tests/python/read_gguf.py").toString(), file.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException("read_gguf.py failed on " + file);
        }
        return out;
    }
}
