package dev.tinyedge.kernels.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The linux-aarch64 library's kernels under qemu-aarch64-static (tests/run.sh installs it and the cross
 * compiler): check.c loads the library, runs every tier the emulated CPU reports on the same cases as
 * {@link NativeKernelsTest} and compares with the scalar reference's results written here. qemu's
 * {@code -cpu max} has dotprod and i8mm; a Cortex-A72 (Raspberry Pi 4) has neither, and must get NEON only.
 */
class NativeKernelsAarch64Test {
    private static final Path BUILD = Path.of(System.getProperty("tinyedge.native.build", "target/native"));
    private static final Path LIBRARY = BUILD.resolve("linux-aarch64").resolve(NativeLibrary.FILE);
    private static final Path CHECK = BUILD.resolve("test").resolve("check-aarch64");

    @TempDir
    Path temp;

    @Test
    void everyTierMatchesTheScalarReferenceUnderQemu() throws Exception {
        Path cases = writeCases(KernelCase.all());
        String output = run("max", cases);
        assertTrue(output.contains("tiers: neon dotprod i8mm\n"), output);
        int count = KernelCase.all().size();
        assertTrue(output.contains((3 * count) + " passed, 0 failed"), output);
    }

    @Test
    void aCortexA72GetsTheNeonTierOnly() throws Exception {
        Path cases = writeCases(List.of(KernelCase.make(dev.tinyedge.tensor.GgmlType.Q4_0, 5, 96, 3, true, 7)));
        String output = run("cortex-a72", cases);
        assertTrue(output.contains("tiers: neon\n") && output.contains("1 passed, 0 failed"), output);
    }

    private Path writeCases(List<KernelCase> cases) throws IOException {
        Path file = temp.resolve("cases.bin");
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(cases.size()).array());
            for (KernelCase c : cases) {
                c.write(out);
            }
        }
        return file;
    }

    private static String run(String cpu, Path cases) throws Exception {
        assertTrue(Files.isRegularFile(LIBRARY) && Files.isRegularFile(CHECK),
                "the build made no aarch64 library or checker (" + LIBRARY + "): install gcc-aarch64-linux-gnu");
        Path qemu = Path.of("/usr/bin/qemu-aarch64-static");
        assertTrue(Files.isExecutable(qemu), "qemu-aarch64-static is missing: apt-get install qemu-user-static (tests/run.sh does)");
        Process p = new ProcessBuilder(qemu.toString(), "-cpu", cpu, "-L", "/usr/aarch64-linux-gnu", CHECK.toString(),
                LIBRARY.toString(), cases.toString()).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "qemu finished");
        assertEquals(0, p.exitValue(), output);
        return output;
    }
}
