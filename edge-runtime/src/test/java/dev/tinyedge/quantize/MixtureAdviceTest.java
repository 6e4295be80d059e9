package dev.tinyedge.quantize;

import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MixtureAdviceTest {
    private static GgufTensorInfo tensor(String name, GgmlType type, long... shape) {
        return new GgufTensorInfo(name, shape, type, 0);
    }

    private static final List<GgufTensorInfo> Q4_K_M = List.of(
            tensor("token_embd.weight", GgmlType.Q4_K, 2048, 32000),
            tensor("blk.0.attn_norm.weight", GgmlType.F32, 2048),
            tensor("blk.0.attn_q.weight", GgmlType.Q4_K, 2048, 2048),
            tensor("blk.0.attn_v.weight", GgmlType.Q6_K, 2048, 256),
            tensor("output.weight", GgmlType.Q6_K, 2048, 32000));

    @Test
    void kQuantsOnOpenClAreNamed() {
        List<String> warnings = MixtureAdvice.warnings(Q4_K_M, "opencl");
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith("4 of 4 matrices (2 Q4_K, 2 Q6_K, e.g. token_embd.weight) have no OpenCL kernel"),
                warnings.getFirst());
    }

    @Test
    void theSameFileSuitsTheCpu() {
        assertEquals(List.of(), MixtureAdvice.warnings(Q4_K_M, "cpu"));
    }

    @Test
    void q4_0FilesSuitOpenClButF16MatricesAreFlagged() {
        List<GgufTensorInfo> q4_0 = List.of(
                tensor("blk.0.attn_q.weight", GgmlType.Q4_0, 2048, 2048),
                tensor("output.weight", GgmlType.F16, 2048, 32000));
        List<String> warnings = MixtureAdvice.warnings(q4_0, "opencl");
        assertEquals(1, warnings.size());
        assertTrue(warnings.getFirst().startsWith("1 large matrix (1 F16, e.g. output.weight) not quantized"), warnings.getFirst());
    }
}
