package dev.tinyedge.opencl;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.backend.CpuBackend;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenCL kernels run the llama, qwen2 and qwen3 blocks: a model whose block has more (gemma3) runs on the CPU, with a line naming what is
 * missing (or fails to load when the device is required). Decided before any device is opened.
 */
class OpenClBackendProviderTest {
    @TempDir
    static Path dir;

    @Test
    void eachFamilyNamesTheOperationsTheKernelsLack() {
        for (SyntheticModel.Preset covered : List.of(SyntheticModel.TINY, SyntheticModel.QWEN2_5_0_5B,
                SyntheticModel.QWEN3_0_6B, SyntheticModel.LLAMA_3_2_1B)) {
            assertEquals(List.of(), OpenClBackendProvider.missingOperations(covered.config()), covered.name());
        }
        assertEquals(List.of("post-norms", "GELU", "embedding scale", "sliding-window attention"),
                OpenClBackendProvider.missingOperations(SyntheticModel.GEMMA_3_1B.config()));
    }

    /** A family the kernels cover is not sent to the CPU: qwen3 (Q/K norms, wide heads, NEOX RoPE) runs on the device. */
    @Test
    void aModelOfACoveredFamilyRunsOnTheDevice() throws Exception {
        Path path = dir.resolve("tiny-qwen3.gguf");
        SyntheticModel.writer(SyntheticModel.TINY_QWEN3, GgmlType.Q8_0, 1).write(path);
        try (GgufFile file = GgufFile.open(path);
             Backend backend = new OpenClBackendProvider().load(ModelWeights.load(file), 64, 1)) {
            assertInstanceOf(OpenClBackend.class, backend);
        }
    }

    @Test
    void aModelWithOperationsTheKernelsLackRunsOnTheCpu() throws Exception {
        Path path = dir.resolve("tiny-gemma3.gguf");
        SyntheticModel.writer(SyntheticModel.TINY_GEMMA3, GgmlType.Q8_0, 1).write(path);
        try (GgufFile file = GgufFile.open(path)) {
            ModelWeights model = ModelWeights.load(file);
            try (Backend backend = new OpenClBackendProvider().load(model, 64, 1)) {
                assertInstanceOf(CpuBackend.class, backend);
            }
            System.setProperty("tinyedge.opencl.required", "true");
            try {
                IOException e = assertThrows(IOException.class, () -> new OpenClBackendProvider().load(model, 64, 1));
                assertTrue(e.getMessage().endsWith("unusable: OpenCL has no kernels for post-norms, GELU, embedding scale, "
                        + "sliding-window attention (gemma3)"), e.getMessage());
            } finally {
                System.clearProperty("tinyedge.opencl.required");
            }
        }
    }
}
