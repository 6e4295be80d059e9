package dev.tinyedge.cli;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code synth --type} with the mixtures: on the tiny preset (rows 64 and 192 wide, 2 layers, tied
 * embedding) the K-quants fall back as llama.cpp's quantizer does, since no 256-block fits.
 */
class SynthTypesTest {
    @TempDir
    Path dir;

    @Test
    void q4KMediumOnTheTinyPresetFallsBackLikeLlamaCpp() throws Exception {
        Path out = dir.resolve("tiny-q4_k_m.gguf");
        assertEquals(0, Main.run("synth", out.toString(), "--preset", "tiny", "--type", "q4_k_m"));
        try (GgufFile file = GgufFile.open(out)) {
            assertEquals(15, file.getLong("general.file_type", -1));
            for (GgufTensorInfo t : file.tensors()) {
                assertEquals(expected(t.name()), t.type(), t.name());
            }
        }
    }

    /**
     * Q4_K falls back to Q5_0 and Q6_K to Q8_0; the tied token embedding is the output head (Q8_0 when its
     * rows are no multiple of 256); of 2 layers, use_more_bits picks layer 1 for attn_v and ffn_down.
     */
    private static GgmlType expected(String name) {
        if (name.endsWith("norm.weight")) {
            return GgmlType.F32;
        }
        if (name.equals("token_embd.weight") || name.equals("blk.1.attn_v.weight") || name.equals("blk.1.ffn_down.weight")) {
            return GgmlType.Q8_0;
        }
        return GgmlType.Q5_0;
    }

    @Test
    void plainTypesAreWrittenThroughout() throws Exception {
        Path out = dir.resolve("tiny-q5_1.gguf");
        assertEquals(0, Main.run("synth", out.toString(), "--preset", "tiny", "--type", "q5_1"));
        try (GgufFile file = GgufFile.open(out)) {
            for (GgufTensorInfo t : file.tensors()) {
                assertEquals(t.shape().length == 1 ? GgmlType.F32 : GgmlType.Q5_1, t.type(), t.name());
            }
        }
    }

    @Test
    void unknownTypesAreUsageErrors() {
        assertEquals(2, Main.run("synth", dir.resolve("x.gguf").toString(), "--preset", "tiny", "--type", "q3_k_s"));
    }
}
