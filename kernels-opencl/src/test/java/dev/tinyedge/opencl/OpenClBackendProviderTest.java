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
 * The OpenCL kernels run the Llama-2 block: a model whose block has more runs on the CPU, with a line naming what is
 * missing (or fails to load when the device is required). Decided before any device is opened.
 */
class OpenClBackendProviderTest {
    @TempDir
    static Path dir;

    @Test
    void eachFamilyNamesTheOperationsTheKernelsLack() {
        assertEquals(List.of(), OpenClBackendProvider.missingOperations(SyntheticModel.TINY.config()));
        assertEquals(List.of("NEOX RoPE", "Q/K/V biases"),
                OpenClBackendProvider.missingOperations(SyntheticModel.QWEN2_5_0_5B.config()));
        assertEquals(List.of("NEOX RoPE", "Q/K norms", "a query width other than the embedding's"),
                OpenClBackendProvider.missingOperations(SyntheticModel.QWEN3_0_6B.config()));
        assertEquals(List.of("RoPE factors"), OpenClBackendProvider.missingOperations(SyntheticModel.LLAMA_3_2_1B.config()));
        assertEquals(List.of("NEOX RoPE", "Q/K norms", "a query width other than the embedding's", "post-norms", "GELU",
                "embedding scale", "sliding-window attention"), OpenClBackendProvider.missingOperations(SyntheticModel.GEMMA_3_1B.config()));
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
                assertTrue(e.getMessage().endsWith("unusable: OpenCL has no kernels for NEOX RoPE, Q/K norms, "
                        + "a query width other than the embedding's, post-norms, GELU, embedding scale, sliding-window attention (gemma3)"),
                        e.getMessage());
            } finally {
                System.clearProperty("tinyedge.opencl.required");
            }
        }
    }
}
