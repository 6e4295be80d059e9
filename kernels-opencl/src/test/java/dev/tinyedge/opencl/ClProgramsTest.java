package dev.tinyedge.opencl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Program building on the real driver: the binary cache, and what a kernel that does not compile does. */
class ClProgramsTest {
    private final ClContext cl = TestDevice.get().cl;

    @Test
    void cachedBinaryIsWhatTheNextBuildLoads(@TempDir Path cache) throws IOException {
        try (ClPrograms programs = new ClPrograms(cl, cache, null)) {
            programs.kernel("add");
            programs.kernel("swiglu");
        }
        Path add = single(cache, "add-");
        Path swiglu = single(cache, "swiglu-");
        // put add.cl's binary where swiglu.cl's belongs: a build that reads the cache now lacks "swiglu"
        Files.copy(add, swiglu, java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        try (ClPrograms programs = new ClPrograms(cl, cache, null)) {
            ClException e = assertThrows(ClException.class, () -> programs.kernel("swiglu"));
            assertEquals("CL_INVALID_KERNEL_NAME", ClException.name(e.code()));
        }
    }

    @Test
    void corruptCachedBinaryIsRebuiltFromSource(@TempDir Path cache) throws IOException {
        try (ClPrograms programs = new ClPrograms(cl, cache, null)) {
            programs.kernel("add");
        }
        Path add = single(cache, "add-");
        Files.write(add, new byte[] {1, 2, 3, 4, 5});

        try (ClPrograms programs = new ClPrograms(cl, cache, null)) {
            programs.kernel("add");
        }
        assertTrue(Files.size(single(cache, "add-")) > 5, "the rejected binary was replaced by a fresh one");
    }

    @Test
    void kernelThatDoesNotCompileFailsWithTheBuildLog(@TempDir Path overrides) throws IOException {
        Files.writeString(overrides.resolve("add.cl"), "kernel void add(global float* x) { x[0] = undeclared_name; }\n");

        try (ClPrograms programs = new ClPrograms(cl, null, overrides)) {
            ClBuildException e = assertThrows(ClBuildException.class, () -> programs.kernel("add"));
            assertTrue(e.getMessage().startsWith("add.cl: build failed on " + cl.device().name()), e.getMessage());
            assertTrue(e.getMessage().contains("undeclared_name"), "the build log names the error: " + e.getMessage());
            assertEquals("CL_BUILD_PROGRAM_FAILURE", ClException.name(e.code()));
        }
    }

    private static Path single(Path folder, String prefix) throws IOException {
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> matching = files.filter(p -> p.getFileName().toString().startsWith(prefix)
                    && p.getFileName().toString().endsWith(".bin")).toList();
            assertEquals(1, matching.size(), "cached binaries " + matching);
            return matching.getFirst();
        }
    }
}
