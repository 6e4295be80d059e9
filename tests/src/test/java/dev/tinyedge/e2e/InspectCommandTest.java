package dev.tinyedge.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.gguf.BrokenGgufCorpus;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bin/tinyedge inspect} as a user runs it: the real launcher on files from the broken-GGUF corpus.
 * A broken file is one line on stderr naming the file and the offset, exit 1, fast. Needs the runtime's jars
 * in deploy/target/lib ({@code mvn -DskipTests package -pl deploy -am}, or any {@code mvn verify}).
 */
class InspectCommandTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    /** Guards against a hang or a huge allocation on a hostile header, not a speed figure: a loaded machine takes 3 s to start a JVM. */
    private static final long MAX_MILLIS = 15_000;

    @TempDir
    static Path dir;
    private static BrokenGgufCorpus corpus;

    @BeforeAll
    static void makeTheCorpus() throws IOException {
        corpus = BrokenGgufCorpus.create(dir);
    }

    @ParameterizedTest
    @ValueSource(strings = {"empty file", "bad magic", "version 4", "tensor count 9223372036854775808",
            "array length 4294967303", "invalid UTF-8 (0xFF)", "bool value 2", "alignment 48", "tensor type 99",
            "overlapping tensor offset", "last tensor's data cut short", "truncated at 24"})
    void aBrokenModelIsOneErrorLineWithTheFileAndOffset(String caseName) throws Exception {
        BrokenGgufCorpus.Case c = corpus.cases().stream().filter(k -> k.name().equals(caseName)).findFirst().orElseThrow();
        Path file = dir.resolve(caseName.replaceAll("[^A-Za-z0-9]+", "-") + ".gguf");
        Files.write(file, c.bytes());

        Result r = inspect(file.toString());
        assertEquals(1, r.exit, r.toString());
        assertEquals("", r.stdout, r.toString());
        List<String> lines = r.stderr.lines().toList();
        assertEquals(1, lines.size(), r.toString());
        String line = lines.getFirst();
        assertTrue(line.startsWith("tinyedge: error: " + file + ": "), line);
        String offset = c.expectedOffset() >= 0 ? " at offset " + c.expectedOffset() : " at offset ";
        assertTrue(line.contains(offset), line + " should contain '" + offset + "'");
        assertFalse(line.contains("Exception") || line.contains("\tat "), line);
        assertTrue(r.millis < MAX_MILLIS, "took " + r.millis + " ms");
    }

    @Test
    void aMissingFileIsOneErrorLine() throws Exception {
        Path missing = dir.resolve("no-such-model.gguf");
        Result r = inspect(missing.toString());
        assertEquals(1, r.exit, r.toString());
        assertEquals(List.of("tinyedge: error: " + missing + ": no such file"), r.stderr.lines().toList());
        assertTrue(r.millis < MAX_MILLIS, "took " + r.millis + " ms");
    }

    @Test
    void aValidModelIsDescribedAsOneJsonDocument() throws Exception {
        Result r = inspect("--json", dir.resolve("valid.gguf").toString());
        assertEquals(0, r.exit, r.toString());
        assertEquals("", r.stderr, r.toString());
        JsonNode json = new ObjectMapper().readTree(r.stdout);
        assertEquals("llama", json.get("architecture").asText());
        assertEquals("corpus", json.get("name").asText());
        assertEquals(3, json.get("gguf_version").asInt());
        assertEquals(Files.size(dir.resolve("valid.gguf")), json.get("file_size").asLong());
        assertEquals(1, json.get("hyper_parameters").get("block_count").asInt());
        assertEquals(4, json.get("tensor_count").asInt());
        // the corpus's tensors: F32 8x5, Q8_0 32x4, Q4_0 32x2, F16 8
        assertEquals(8 * 5 + 32 * 4 + 32 * 2 + 8, json.get("parameters").asLong());
        for (Map.Entry<String, Integer> e : Map.of("F32", 40, "Q8_0", 128, "Q4_0", 64, "F16", 8).entrySet()) {
            assertEquals(1, json.get("tensor_types").get(e.getKey()).get("tensors").asInt(), e.getKey());
            assertEquals(e.getValue(), json.get("tensor_types").get(e.getKey()).get("parameters").asInt(), e.getKey());
        }
        assertEquals(5, json.get("tokenizer").get("vocab_size").asInt());
        assertFalse(json.get("tokenizer").get("chat_template").asBoolean());
    }

    @Test
    void theTableNamesTheTypesAndTheirCounts() throws Exception {
        Result r = inspect(dir.resolve("valid.gguf").toString());
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.stdout.lines().anyMatch(l -> l.matches("\\s*types\\s+F32: 1, F16: 1, Q4_0: 1, Q8_0: 1")), r.stdout);
        assertTrue(r.stdout.lines().anyMatch(l -> l.matches("architecture\\s+llama")), r.stdout);
        assertTrue(r.stdout.lines().anyMatch(l -> l.matches("\\s*chat template\\s+none")), r.stdout);
    }

    @Test
    void aMixtureWithoutOpenClKernelsIsWarnedAboutOnAnOpenClProfile() throws Exception {
        Path model = dir.resolve("tiny-q4_k_m.gguf");
        Process synth = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString(), "synth", model.toString(),
                "--preset", "tiny", "--type", "q4_k_m").redirectErrorStream(true).start();
        String synthOutput = read(synth.getInputStream());
        assertTrue(synth.waitFor(120, TimeUnit.SECONDS) && synth.exitValue() == 0, synthOutput);

        // the tiny preset's 64-wide rows fall back from K-quants to Q5_0/Q8_0, and OpenCL has no Q5_0 kernel
        JsonNode onGpu = new ObjectMapper().readTree(inspect("--json", "--profile", "rk3588-8gb", model.toString()).stdout);
        assertEquals("opencl", onGpu.get("memory_plan").get("backend").asText());
        assertTrue(onGpu.get("warnings").toString().contains("OpenCL"), onGpu.get("warnings").toString());

        JsonNode onCpu = new ObjectMapper().readTree(inspect("--json", "--profile", "generic-x86_64", model.toString()).stdout);
        assertEquals("cpu", onCpu.get("memory_plan").get("backend").asText());
        assertFalse(onCpu.get("warnings").toString().contains("OpenCL"), onCpu.get("warnings").toString());
    }

    private record Result(int exit, String stdout, String stderr, long millis) {
        @Override
        public String toString() {
            return "exit " + exit + " after " + millis + " ms\nstdout: " + stdout + "\nstderr: " + stderr;
        }
    }

    private static Result inspect(String... args) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(ROOT.resolve("bin/tinyedge").toString(), "inspect"));
        command.addAll(List.of(args));
        long start = System.nanoTime();
        Process p = new ProcessBuilder(command).start();
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String stdout = read(p.getInputStream());
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "inspect hung");
        return new Result(p.exitValue(), stdout, stderr.join(), (System.nanoTime() - start) / 1_000_000);
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
