package dev.tinyedge.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads a GGUF written by llama.cpp's own Python writer (gguf-py 0.19.0, tests/python/write_gguf.py) and
 * checks every key and every tensor's bytes against the manifest the script writes beside it.
 *
 * <p>Python: {@code $TINYEDGE_PYTHON} if set (a python with gguf 0.19.0 and numpy), else the repository's
 * .venv, the one tests/run.sh makes; when that lacks gguf 0.19.0 this test makes it the same way
 * ({@code python3 -m venv .venv; .venv/bin/pip install --retries 0 gguf==0.19.0 numpy}).
 */
class PythonGgufWriterTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    static final Path WORK = ROOT.resolve("tests/target/interop");

    private static Path model;
    private static JsonNode manifest;

    @BeforeAll
    static void writeTheModelWithGgufPy() throws Exception {
        Files.createDirectories(WORK);
        model = WORK.resolve("gguf-py-llama.gguf");
        Path manifestFile = WORK.resolve("gguf-py-llama.json");
        run(python(), ROOT.resolve("tests/python/write_gguf.py").toString(), model.toString(), manifestFile.toString());
        manifest = new ObjectMapper().readTree(manifestFile.toFile());
    }

    @Test
    void everyKeyHasTheTypeAndValueGgufPyWrote() throws Exception {
        try (GgufFile gguf = GgufFile.open(model)) {
            List<String> expectedKeys = new ArrayList<>();
            manifest.get("metadata").fieldNames().forEachRemaining(expectedKeys::add);
            assertEquals(expectedKeys, List.copyOf(gguf.metadata().keySet()), "keys, in file order");
            for (String key : expectedKeys) {
                JsonNode expected = manifest.get("metadata").get(key);
                GgufValue actual = gguf.get(key);
                assertEquals(expected.get("type").asText(), actual.type().name(), key);
                if (actual.type() != GgufValueType.ARRAY) {
                    assertEquals(canonical(actual.type(), expected.get("value")), canonical(actual.type(), actual.value()), key);
                    continue;
                }
                GgufValueType element = actual.elementType();
                assertEquals(expected.get("element_type").asText(), element.name(), key);
                JsonNode values = expected.get("value");
                assertEquals(values.size(), actual.length(), key);
                for (int i = 0; i < values.size(); i++) {
                    assertEquals(canonical(element, values.get(i)), canonical(element, Array.get(actual.value(), i)), key + "[" + i + "]");
                }
            }
            assertEquals(manifest.get("alignment").asLong(), gguf.alignment());
        }
    }

    @Test
    void everyTensorHasTheTypeShapeAndBytesGgufPyWrote() throws Exception {
        try (GgufFile gguf = GgufFile.open(model)) {
            List<String> expectedNames = new ArrayList<>();
            manifest.get("tensors").fieldNames().forEachRemaining(expectedNames::add);
            assertEquals(expectedNames, gguf.tensors().stream().map(GgufTensorInfo::name).toList());
            for (GgufTensorInfo t : gguf.tensors()) {
                JsonNode expected = manifest.get("tensors").get(t.name());
                assertEquals(expected.get("type").asText(), t.type().name(), t.name());
                List<Long> shape = new ArrayList<>();
                expected.get("shape").forEach(d -> shape.add(d.asLong()));
                assertEquals(shape, java.util.Arrays.stream(t.shape()).boxed().toList(), t.name());
                assertEquals(expected.get("nbytes").asLong(), t.byteSize(), t.name());
                assertEquals(0, (gguf.dataOffset() + t.offset()) % gguf.alignment(), t.name());
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                sha.update(gguf.data(t).asByteBuffer()); // the bytes in place in the mapping
                assertEquals(expected.get("sha256").asText(), HexFormat.of().formatHex(sha.digest()), t.name());
            }
        }
    }

    /** One spelling for a value on both sides: unsigned types as unsigned, floats widened to double. */
    static String canonical(GgufValueType type, Object value) {
        if (value instanceof JsonNode json) {
            return switch (type) {
                case FLOAT32, FLOAT64 -> Double.toString(json.asDouble());
                case STRING -> json.asText();
                case BOOL -> Boolean.toString(json.asBoolean());
                default -> json.bigIntegerValue().toString();
            };
        }
        return switch (type) {
            case UINT8 -> value instanceof Byte b ? Integer.toString(Byte.toUnsignedInt(b)) : value.toString();
            case UINT16 -> value instanceof Short s ? Integer.toString(Short.toUnsignedInt(s)) : value.toString();
            case UINT32 -> value instanceof Integer i ? Integer.toUnsignedString(i) : value.toString();
            case UINT64 -> Long.toUnsignedString((Long) value);
            case FLOAT32 -> Double.toString((Float) value);
            default -> value.toString();
        };
    }

    /** The python to run the script with, setting up the repository's .venv when it lacks gguf. */
    static String python() throws IOException, InterruptedException {
        String configured = System.getenv("TINYEDGE_PYTHON");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        Path venv = ROOT.resolve(".venv");
        Path python = venv.resolve("bin/python");
        if (!Files.isExecutable(python) || !succeeds(python.toString(), "-c",
                "import importlib.metadata as m, numpy; assert m.version('gguf') == '0.19.0'")) {
            run("python3", "-m", "venv", "--clear", venv.toString());
            // no retries: where pip's default index is unreachable it moves on to the configured local one
            run(python.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--retries", "0",
                    "gguf==0.19.0", "numpy");
        }
        return python.toString();
    }

    private static boolean succeeds(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
