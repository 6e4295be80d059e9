package dev.tinyedge.opencl;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * {@code --backend opencl} runs every family on the device: none is sent to the CPU for an operation the kernels
 * lack (the fallbacks for an unusable device are in {@link OpenClBackendTest}).
 */
class OpenClBackendProviderTest {
    @TempDir
    static Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "tiny-qwen2", "tiny-qwen3", "tiny-llama3", "tiny-gemma3"})
    void everyFamilyRunsOnTheDevice(String preset) throws Exception {
        Path path = dir.resolve(preset + ".gguf");
        SyntheticModel.writer(SyntheticModel.preset(preset), GgmlType.Q8_0, 1).write(path);
        try (GgufFile file = GgufFile.open(path);
             Backend backend = new OpenClBackendProvider().load(ModelWeights.load(file), 64, 1)) {
            assertInstanceOf(OpenClBackend.class, backend);
        }
    }
}
