package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tokenizer.LlamaVocabFixture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tinyedge tokenize} on a GGUF file carrying the Llama-2 vocabulary. */
class TokenizeCommandTest {
    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void writeModel() throws Exception {
        model = LlamaVocabFixture.writeGguf(dir);
    }

    private record Result(int exitCode, String out, String err) {}

    private static Result run(String... args) {
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        System.setOut(new PrintStream(outBytes, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(errBytes, true, StandardCharsets.UTF_8));
        try {
            int code = Main.run(args);
            return new Result(code, outBytes.toString(StandardCharsets.UTF_8), errBytes.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void printsTheIdsAsAJsonArray() {
        assertEquals(new Result(0, "[1, 15043, 3186, 29991]\n", ""),
                run("tokenize", "--model", model.toString(), "Hello world!"));
        assertEquals("[15043, 3186, 29991]\n", run("tokenize", "--model", model.toString(), "--no-bos", "Hello world!").out());
    }

    @Test
    void specialTokensAreTextUnlessAsked() {
        assertEquals("[1, 6324, 829, 29879, 29958]\n", run("tokenize", "--model", model.toString(), "Hi</s>").out());
        assertEquals("[1, 6324, 2]\n", run("tokenize", "--model", model.toString(), "--parse-special", "Hi</s>").out());
    }

    @Test
    void aMissingModelIsOneLine() {
        Path missing = dir.resolve("missing.gguf");
        assertEquals(new Result(1, "", "tinyedge: error: " + missing + ": no such file\n"),
                run("tokenize", "--model", missing.toString(), "x"));
    }

    @Test
    void aModelWithoutTokenizerIsOneLine() throws Exception {
        Path noVocab = dir.resolve("no-vocab.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("llama")).write(noVocab);
        Result r = run("tokenize", "--model", noVocab.toString(), "x");
        assertEquals(new Result(1, "", "tinyedge: error: " + noVocab + ": metadata key 'tokenizer.ggml.model' is missing: "
                + "the file has no tokenizer\n"), r);

        Path notGguf = dir.resolve("not.gguf");
        Files.writeString(notGguf, "hello");
        r = run("tokenize", "--model", notGguf.toString(), "x");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("tinyedge: error: " + notGguf + ": bad magic") && r.err().lines().count() == 1, r.err());
    }

    @Test
    void brokenTokenizerMetadataIsOneLine() throws Exception {
        String[] bytes = {"a", "b", "ab"};
        GgufValue merges = GgufValue.strings(new String[] {"a b"});
        assertOneLineError(bpe(bytes, GgufValue.strings(new String[] {"a zz"}), "qwen2"),
                "tokenizer.ggml.merges entry 0 'a zz' names 'zz', which is not a token of the vocabulary");
        assertOneLineError(bpe(bytes, merges, "tekken"), "tokenizer.ggml.pre is 'tekken': tinyedge splits text as "
                + "llama.cpp does for deepseek-r1-qwen, gpt-2, llama-bpe, llama-v3, llama3, qwen2, smollm only");
        assertOneLineError(bpe(bytes, merges, null), "metadata key 'tokenizer.ggml.pre' is missing: it names how "
                + "llama.cpp splits text into words (tinyedge knows deepseek-r1-qwen, gpt-2, llama-bpe, llama-v3, llama3, "
                + "qwen2, smollm)");
        assertOneLineError(bpe(bytes, null, "qwen2"), "metadata key 'tokenizer.ggml.merges' is missing: the file has "
                + "no BPE merges");
        assertOneLineError(bpe(null, merges, "qwen2"), "metadata key 'tokenizer.ggml.tokens' is missing: the file has "
                + "no vocabulary");
    }

    private static Path bpe(String[] tokens, GgufValue merges, String pre) throws Exception {
        GgufWriter writer = new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        if (tokens != null) {
            writer.put("tokenizer.ggml.tokens", GgufValue.strings(tokens));
        }
        if (merges != null) {
            writer.put("tokenizer.ggml.merges", merges);
        }
        if (pre != null) {
            writer.put("tokenizer.ggml.pre", GgufValue.string(pre));
        }
        Path file = Files.createTempFile(dir, "broken", ".gguf");
        writer.write(file);
        return file;
    }

    private static void assertOneLineError(Path file, String message) {
        assertEquals(new Result(1, "", "tinyedge: error: " + file + ": " + message + "\n"),
                run("tokenize", "--model", file.toString(), "ab"));
    }

    @Test
    void missingTextIsAUsageError() {
        Result r = run("tokenize", "--model", model.toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().startsWith("tinyedge: error: ") && r.err().lines().count() == 1, r.err());
    }
}
