package dev.tinyedge.fuzz;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.model.ModelWeights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Any bytes as a model file: the reader refuses them with a {@link GgufFormatException} naming a byte of the
 * file, or reads header, metadata and tensor table; a file that also loads as a model must then run a forward
 * pass and decode its prediction without an exception (its numbers may be anything). The context is capped at
 * {@link #MAX_CONTEXT} tokens, as the board's memory plan caps it, so that one input stays fast; everything
 * else is bounded by the input's size, since every tensor must lie inside the file.
 */
class GgufFuzzTest {
    private static final int MAX_CONTEXT = 8;
    private static final Path FILE = scratchFile();

    @FuzzTest(maxDuration = FuzzDuration.DEFAULT)
    @DictionaryEntries({"GGUF", "general.architecture", "llama", "llama.context_length", "llama.embedding_length",
            "llama.block_count", "llama.attention.head_count", "llama.attention.head_count_kv",
            "general.alignment", "tokenizer.ggml.tokens", "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id",
            "token_embd.weight", "output.weight", "blk.0.attn_q.weight"})
    void loadsOrRefusesAnyFile(byte[] bytes) throws IOException {
        Files.write(FILE, bytes);
        int context;
        try (GgufFile gguf = GgufFile.open(FILE)) {
            for (GgufTensorInfo tensor : gguf.tensors()) {
                assertTrue(gguf.data(tensor).byteSize() <= bytes.length, tensor.name());
            }
            gguf.metadata().values().forEach(String::valueOf);
            context = Math.min(MAX_CONTEXT, ModelWeights.load(gguf).config().contextLength());
        } catch (GgufFormatException e) {
            assertRefusal(e, bytes.length);
            return;
        }
        try (Engine engine = Engine.load(FILE, new EngineOptions(context, 1, "cpu"))) {
            int[] prompt = engine.tokenizer().encode("the whale", true, false);
            float[] logits = engine.forward(prompt, Math.min(prompt.length, context), 0);
            assertEquals(engine.config().vocabSize(), logits.length);
            int next = 0;
            for (int id = 1; id < logits.length; id++) {
                next = logits[id] > logits[next] ? id : next;
            }
            engine.tokenizer().decode(new int[]{next});
        } catch (GgufFormatException e) {
            assertRefusal(e, bytes.length); // the tokenizer, or the model against its tokenizer
        }
    }

    /**
     * The CLI prints the message as one line; a fault in how the file is written names a byte inside it, a fault
     * in what well-formed metadata say (a missing key or tensor, an unsupported architecture) names none (-1).
     */
    private static void assertRefusal(GgufFormatException e, long fileSize) {
        assertTrue(e.offset() == -1 || (e.offset() >= 0 && e.offset() <= fileSize), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    private static Path scratchFile() {
        try {
            Path dir = Files.createTempDirectory("tinyedge-fuzz-gguf");
            dir.toFile().deleteOnExit();
            Path file = dir.resolve("input.gguf");
            file.toFile().deleteOnExit();
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
