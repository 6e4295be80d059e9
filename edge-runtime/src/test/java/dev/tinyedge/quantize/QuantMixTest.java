package dev.tinyedge.quantize;

import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QuantMixTest {
    private static final int LAYERS = 22;

    /** TinyLlama-1.1B's tensors with their GGUF shapes ([in, out]), as its GGUF files list them. */
    private static Map<String, long[]> tinyLlama() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("token_embd.weight", new long[] {2048, 32000});
        for (int i = 0; i < LAYERS; i++) {
            String p = "blk." + i + ".";
            shapes.put(p + "attn_norm.weight", new long[] {2048});
            shapes.put(p + "attn_q.weight", new long[] {2048, 2048});
            shapes.put(p + "attn_k.weight", new long[] {2048, 256});
            shapes.put(p + "attn_v.weight", new long[] {2048, 256});
            shapes.put(p + "attn_output.weight", new long[] {2048, 2048});
            shapes.put(p + "ffn_norm.weight", new long[] {2048});
            shapes.put(p + "ffn_gate.weight", new long[] {2048, 5632});
            shapes.put(p + "ffn_up.weight", new long[] {2048, 5632});
            shapes.put(p + "ffn_down.weight", new long[] {5632, 2048});
        }
        shapes.put("output_norm.weight", new long[] {2048});
        shapes.put("output.weight", new long[] {2048, 32000});
        return shapes;
    }

    private static Map<String, GgmlType> plan(QuantMix mix, Map<String, long[]> shapes, boolean pure) {
        Map<String, GgmlType> types = new LinkedHashMap<>();
        boolean tied = !shapes.containsKey("output.weight");
        shapes.forEach((name, shape) -> types.put(name, mix.typeFor(name, shape, GgmlType.F32, LAYERS, tied, pure)));
        return types;
    }

    private static long bytes(Map<String, long[]> shapes, Map<String, GgmlType> types) {
        long total = 0;
        for (var e : shapes.entrySet()) {
            long n = 1;
            for (long d : e.getValue()) {
                n *= d;
            }
            total += types.get(e.getKey()).byteSize(n);
        }
        return total;
    }

    @Test
    void q4KMediumGivesSixBitsToTheOutputAndToAttnVAndFfnDownOfTenLayers() {
        Map<String, GgmlType> types = plan(QuantMix.Q4_K_M, tinyLlama(), false);
        assertEquals(GgmlType.Q6_K, types.get("output.weight"));
        assertEquals(GgmlType.Q4_K, types.get("token_embd.weight"));
        assertEquals(GgmlType.F32, types.get("blk.3.attn_norm.weight"));
        assertEquals(GgmlType.F32, types.get("output_norm.weight"));
        List<Integer> moreBits = new ArrayList<>();
        for (int i = 0; i < LAYERS; i++) {
            GgmlType v = types.get("blk." + i + ".attn_v.weight");
            assertEquals(v, types.get("blk." + i + ".ffn_down.weight"), "layer " + i);
            if (v == GgmlType.Q6_K) {
                moreBits.add(i);
            } else {
                assertEquals(GgmlType.Q4_K, v, "layer " + i);
            }
            for (String other : List.of("attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up")) {
                assertEquals(GgmlType.Q4_K, types.get("blk." + i + "." + other + ".weight"));
            }
        }
        // use_more_bits for 22 layers: i < 2, i >= 19, or (i - 2) % 3 == 2
        assertEquals(List.of(0, 1, 4, 7, 10, 13, 16, 19, 20, 21), moreBits);
    }

    /** The published TinyLlama files: Q4_0 is 637 MB and Q4_K_M 668 MB, of which ~2 MB is tokenizer metadata. */
    @Test
    void tinyLlamaSizesMatchLlamaCppFiles() {
        Map<String, long[]> shapes = tinyLlama();
        assertEquals(668e6, bytes(shapes, plan(QuantMix.Q4_K_M, shapes, false)), 3e6);
        assertEquals(637e6, bytes(shapes, plan(QuantMix.Q4_0, shapes, false)), 3e6);
    }

    @Test
    void pureWritesEveryMatrixInTheBaseType() {
        Map<String, GgmlType> types = plan(QuantMix.Q4_0, tinyLlama(), true);
        assertEquals(GgmlType.Q4_0, types.get("output.weight"));
        assertEquals(GgmlType.Q4_0, types.get("blk.0.ffn_down.weight"));
        assertEquals(GgmlType.F32, types.get("blk.0.ffn_norm.weight"));
        Map<String, GgmlType> q4k = plan(QuantMix.Q4_K, tinyLlama(), false);
        assertEquals(GgmlType.Q4_K, q4k.get("output.weight"));
        assertEquals(GgmlType.Q4_K, q4k.get("blk.0.attn_v.weight"));
    }

    @Test
    void tiedEmbeddingIsTheOutputHead() {
        Map<String, long[]> shapes = tinyLlama();
        shapes.remove("output.weight");
        assertEquals(GgmlType.Q6_K, plan(QuantMix.Q4_0, shapes, false).get("token_embd.weight"));
        assertEquals(GgmlType.Q8_0, plan(QuantMix.Q8_0, shapes, false).get("token_embd.weight"));
    }

    @Test
    void rowsThatNoSuperBlockFitsFallBackLikeLlamaCpp() {
        // the tiny preset's widths: 64-wide rows, 192-wide ffn_down rows; of 4 layers, the last "uses more bits"
        long[] narrow = {64, 64};
        assertEquals(GgmlType.Q5_0, QuantMix.Q4_K_M.typeFor("blk.2.attn_q.weight", narrow, GgmlType.F32, 4, true, false));
        assertEquals(GgmlType.Q8_0, QuantMix.Q4_K_M.typeFor("blk.3.attn_v.weight", narrow, GgmlType.F32, 4, true, false));
        assertEquals(GgmlType.Q8_0, QuantMix.Q4_K_M.typeFor("token_embd.weight", narrow, GgmlType.F32, 4, true, false));
        assertEquals(GgmlType.Q5_1, QuantMix.Q5_K.typeFor("blk.0.ffn_down.weight", new long[] {192, 64}, GgmlType.F32, 4, true, false));
        assertEquals(GgmlType.F16, QuantMix.Q4_0.typeFor("blk.0.attn_q.weight", new long[] {40, 64}, GgmlType.F32, 4, true, false));
    }

    @Test
    void typesAreNamedAsOnTheCommandLine() {
        assertEquals(QuantMix.Q4_K_M, QuantMix.parse("Q4_K_M"));
        assertEquals(15, QuantMix.parse("q4_k_m").fileType);
        assertThrows(IllegalArgumentException.class, () -> QuantMix.parse("q3_k_s"));
    }
}
