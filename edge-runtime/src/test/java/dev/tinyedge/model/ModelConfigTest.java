package dev.tinyedge.model;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufValue;
import dev.tinyedge.gguf.GgufValueType;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The metadata keys read as llama.cpp reads them, and those tinyedge cannot honour refused with one line. */
class ModelConfigTest {
    @TempDir
    Path dir;
    private int files;

    private ModelConfig config(GgufWriter writer) throws Exception {
        Path path = dir.resolve("m" + files++ + ".gguf");
        writer.write(path);
        try (GgufFile file = GgufFile.open(path)) {
            return ModelConfig.fromGguf(file);
        }
    }

    private String refusal(GgufWriter writer) throws Exception {
        Path path = dir.resolve("m" + files++ + ".gguf");
        writer.write(path);
        try (GgufFile file = GgufFile.open(path)) {
            return assertThrows(GgufFormatException.class, () -> ModelWeights.load(file)).getMessage();
        }
    }

    private static GgufWriter gemma() {
        return SyntheticModel.writer(SyntheticModel.TINY_GEMMA3, GgmlType.F32, 1);
    }

    private static GgufWriter qwen2() {
        return SyntheticModel.writer(SyntheticModel.TINY_QWEN2, GgmlType.F32, 1);
    }

    @Test
    void eachPresetReadsBackAsItsConfiguration() throws Exception {
        for (SyntheticModel.Preset preset : List.of(SyntheticModel.TINY, SyntheticModel.TINY_QWEN2, SyntheticModel.TINY_QWEN3,
                SyntheticModel.TINY_LLAMA3, SyntheticModel.TINY_GEMMA3)) {
            assertEquals(preset.config(), config(SyntheticModel.writer(preset, GgmlType.F32, 1)), preset.name());
        }
    }

    @Test
    void gemmaLocalLayersFollowLlamaCppsPattern() throws Exception {
        ModelConfig periodThree = config(gemma().put("gemma3.attention.sliding_window_pattern", GgufValue.u32(3)));
        assertEquals(List.of(2, 5), IntStream.range(0, 6).filter(l -> !periodThree.isLocal(l)).boxed().toList());
        // llama.cpp reads the pattern as a scalar only: a per-layer array leaves its default period of 6
        ModelConfig array = config(gemma().put("gemma3.attention.sliding_window_pattern",
                new GgufValue(GgufValueType.ARRAY, GgufValueType.BOOL, new boolean[] {true, false, true, false, true, false})));
        assertEquals(List.of(5), IntStream.range(0, 6).filter(l -> !array.isLocal(l)).boxed().toList());
        ModelConfig everyLayer = config(gemma().put("gemma3.attention.sliding_window_pattern", GgufValue.u32(0)));
        assertEquals(6, IntStream.range(0, 6).filter(everyLayer::isLocal).count(), "period 0: every layer local");
        ModelConfig noWindow = config(gemma().put("gemma3.attention.sliding_window", GgufValue.u32(0)));
        assertEquals(ModelConfig.SlidingWindow.NONE, noWindow.window());
    }

    @Test
    void gemmaLocalRopeBaseDefaultsAsInLlamaCpp() throws Exception {
        // synth, like converters before rope.freq_base_swa existed, leaves out the default base of 10000
        assertEquals(10_000f, config(gemma()).ropeBase(0));
        ModelConfig withKey = config(gemma().put("gemma3.rope.freq_base_swa", GgufValue.f32(20_000f)));
        assertEquals(20_000f, withKey.ropeBase(0));
        assertEquals(1_000_000f, withKey.ropeBase(5));
    }

    @Test
    void linearRopeScalingIsRead() throws Exception {
        assertEquals(0.25f, config(qwen2().put("qwen2.rope.scaling.factor", GgufValue.f32(4f))).ropeScale());
        assertEquals(0.5f, config(qwen2().put("qwen2.rope.scale_linear", GgufValue.f32(2f))).ropeScale(), "the older key");
        assertEquals(1f, config(qwen2().put("qwen2.rope.scaling.type", GgufValue.string("none"))
                .put("qwen2.rope.scaling.factor", GgufValue.f32(4f))).ropeScale(), "type none never scales");
        ModelConfig gemma = config(gemma().put("gemma3.rope.scaling.type", GgufValue.string("linear"))
                .put("gemma3.rope.scaling.factor", GgufValue.f32(8f)));
        assertEquals(0.125f, gemma.ropeScale(5), "global layers scale");
        assertEquals(1f, gemma.ropeScale(0), "local layers do not");
    }

    @Test
    void attentionScaleFollowsGemmasRule() {
        ModelConfig c = SyntheticModel.GEMMA_3_1B.config();
        assertEquals((float) (1 / Math.sqrt(256)), c.attentionScale());
        // Gemma 3 27B (62 layers) scales by 1/sqrt(dim / heads) = 1/sqrt(168), not by its key length of 128
        ModelConfig big = new ModelConfig(Architecture.GEMMA3, c.features(), 262144, 5376, 21504, 62, 32, 16, 128,
                131072, 1e-6f, 1e6f, 1f, c.window());
        assertEquals((float) (1 / Math.sqrt(168)), big.attentionScale());
    }

    @Test
    void whatTinyedgeCannotRunIsRefusedWithOneLine() throws Exception {
        assertEquals("qwen2.rope.scaling.type = yarn: RoPE scaling 'yarn' is not supported (supported: none, linear)",
                refusal(qwen2().put("qwen2.rope.scaling.type", GgufValue.string("yarn"))));
        assertEquals("qwen2.rope.dimension_count = 8: partial rotary embeddings (fewer dimensions than the head's 16) are not supported",
                refusal(qwen2().put("qwen2.rope.dimension_count", GgufValue.u32(8))));
        assertEquals("qwen2.expert_count = 8: mixture-of-experts layers are not supported",
                refusal(qwen2().put("qwen2.expert_count", GgufValue.u32(8))));
        assertEquals("qwen2.attention.value_length = 32: values of another length than the keys (16) are not supported",
                refusal(qwen2().put("qwen2.attention.value_length", GgufValue.u32(32))));
        assertEquals("qwen2.attention.causal = false: non-causal attention is not supported",
                refusal(qwen2().put("qwen2.attention.causal", GgufValue.bool(false))));
        assertEquals("qwen2.rope.scaling.attn_factor = 2.0: a RoPE attention factor is not supported",
                refusal(qwen2().put("qwen2.rope.scaling.attn_factor", GgufValue.f32(2f))));
        assertEquals("gemma3.final_logit_softcapping = 30.0: logit soft-capping is not supported",
                refusal(gemma().put("gemma3.final_logit_softcapping", GgufValue.f32(30f))));
        assertEquals("architecture 'phi3' is not supported (supported: llama, qwen2, qwen3, gemma3)",
                refusal(qwen2().put("general.architecture", GgufValue.string("phi3"))));
    }

    @Test
    void aTensorTheModelDoesNotUseIsRefused() throws Exception {
        GgufWriter outputBias = qwen2().addTensor("blk.1.attn_output.bias", GgmlType.F32, new long[] {64},
                out -> out.position(out.limit()));
        assertEquals("tensor 'blk.1.attn_output.bias' is not part of a qwen2 model as tinyedge (and llama.cpp) runs it:"
                + " an unsupported feature", refusal(outputBias));
        // RoPE factors belong to llama's builder only
        GgufWriter gemmaFactors = gemma().addTensor(ModelWeights.ROPE_FACTORS, GgmlType.F32, new long[] {16},
                out -> out.position(out.limit()));
        assertEquals("tensor 'rope_freqs.weight' is not part of a gemma3 model as tinyedge (and llama.cpp) runs it:"
                + " an unsupported feature", refusal(gemmaFactors));
        GgufWriter fused = qwen2().addTensor("blk.0.attn_qkv.weight", GgmlType.F32, new long[] {64, 128},
                out -> out.position(out.limit()));
        assertEquals("fused Q/K/V tensors (blk.0.attn_qkv.weight) are not supported", refusal(fused));
    }

    @Test
    void missingFamilyTensorsAreNamed() throws Exception {
        // a qwen2 file relabelled qwen3 lacks the Q/K norms
        assertEquals("tensor 'blk.0.attn_q_norm.weight' is missing",
                refusal(qwen2().put("general.architecture", GgufValue.string("qwen3")).put("qwen3.embedding_length", GgufValue.u32(64))
                        .put("qwen3.attention.head_count", GgufValue.u32(4)).put("qwen3.attention.head_count_kv", GgufValue.u32(2))
                        .put("qwen3.feed_forward_length", GgufValue.u32(192)).put("qwen3.block_count", GgufValue.u32(2))
                        .put("qwen3.context_length", GgufValue.u32(256))
                        .put("qwen3.attention.layer_norm_rms_epsilon", GgufValue.f32(1e-6f))));
    }
}
