package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelWeightsTest {
    @TempDir
    Path dir;

    @Test
    void synthesizedModelLoadsWithThePresetsConfiguration() throws Exception {
        try (GgufFile file = GgufFile.open(TestModels.write(dir, SyntheticModel.TINY, GgmlType.Q4_0, 1))) {
            ModelWeights model = ModelWeights.load(file);
            assertEquals(SyntheticModel.TINY.config(), model.config());
            assertTrue(model.tiedOutput(), "the tiny preset has no output.weight");
            assertEquals(GgmlType.Q4_0, model.layers().get(1).down().type());
            assertEquals(GgmlType.F32, model.outputNorm().type());
            assertEquals(2L, file.getLong("general.file_type", -1), "llama.cpp's LLAMA_FTYPE_MOSTLY_Q4_0");
        }
    }

    @Test
    void tinyLlamaPresetHasTinyLlamasExactShapes() {
        ModelConfig c = SyntheticModel.TINYLLAMA_1_1B.config();
        assertEquals(new ModelConfig(32000, 2048, 5632, 22, 32, 4, 2048, 1e-5f, 10000f), c);
        assertEquals(64, c.headDim());
        Map<String, long[]> shapes = SyntheticModel.tensorShapes(SyntheticModel.TINYLLAMA_1_1B);
        assertEquals(201, shapes.size(), "TinyLlama-1.1B GGUFs have 201 tensors");
        long parameters = shapes.values().stream().mapToLong(s -> s.length == 1 ? s[0] : s[0] * s[1]).sum();
        assertEquals(1_100_048_384L, parameters, "TinyLlama-1.1B's parameter count");
        assertEquals(256L, shapes.get("blk.21.attn_k.weight")[1]);
        assertEquals(5632L, shapes.get("blk.0.ffn_down.weight")[0]);
        assertTrue(shapes.containsKey(ModelWeights.OUTPUT));
    }

    @Test
    void weightsAreDeterministicPerSeed() throws Exception {
        try (GgufFile a = GgufFile.open(TestModels.write(dir, TestModels.SMALL, GgmlType.Q8_0, 5));
             GgufFile b = GgufFile.open(TestModels.write(dir.resolve(".."), TestModels.SMALL, GgmlType.Q8_0, 5));
             GgufFile c = GgufFile.open(TestModels.write(dir, TestModels.SMALL, GgmlType.Q8_0, 6))) {
            var name = "blk.1.ffn_up.weight";
            assertEquals(-1, a.data(a.tensor(name)).mismatch(b.data(b.tensor(name))));
            assertFalse(a.data(a.tensor(name)).mismatch(c.data(c.tensor(name))) == -1);
        }
    }

    private GgufFormatException loadFailure(GgufWriter writer) throws Exception {
        Path path = dir.resolve("bad.gguf");
        writer.write(path);
        try (GgufFile file = GgufFile.open(path)) {
            return assertThrows(GgufFormatException.class, () -> ModelWeights.load(file));
        }
    }

    @Test
    void missingOrBadMetadataIsNamed() throws Exception {
        GgufWriter noKeys = new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .addTensor(ModelWeights.TOKEN_EMBEDDING, GgmlType.F32, new long[] {4, 3}, out -> out.put(new byte[48]));
        assertTrue(loadFailure(noKeys).getMessage().contains("'llama.embedding_length' is missing"));

        GgufWriter badHeads = SyntheticModel.writer(TestModels.SMALL, GgmlType.F32, 1)
                .put("llama.attention.head_count_kv", GgufValue.u32(4));
        assertTrue(loadFailure(badHeads).getMessage().contains("llama.attention.head_count_kv"));

        GgufWriter badEps = SyntheticModel.writer(TestModels.SMALL, GgmlType.F32, 1)
                .put("llama.attention.layer_norm_rms_epsilon", GgufValue.f32(-1));
        assertTrue(loadFailure(badEps).getMessage().contains("llama.attention.layer_norm_rms_epsilon"));

        GgufWriter otherArchitecture = SyntheticModel.writer(TestModels.SMALL, GgmlType.F32, 1)
                .put("general.architecture", GgufValue.string("phi3"));
        assertEquals("architecture 'phi3' is not supported (supported: llama, qwen2, qwen3, gemma3)",
                loadFailure(otherArchitecture).getMessage());
    }

    @Test
    void missingTensorsAndWrongShapesAreNamed() throws Exception {
        GgufWriter moreLayers = SyntheticModel.writer(TestModels.SMALL, GgmlType.F32, 1)
                .put("llama.block_count", GgufValue.u32(3));
        assertTrue(loadFailure(moreLayers).getMessage().contains("tensor 'blk.2.attn_norm.weight' is missing"));

        GgufWriter wrongFfn = SyntheticModel.writer(TestModels.SMALL, GgmlType.F32, 1)
                .put("llama.feed_forward_length", GgufValue.u32(128));
        assertEquals("tensor 'blk.0.ffn_gate.weight' has shape [96, 160], expected [96, 128]",
                loadFailure(wrongFfn).getMessage());
    }
}
