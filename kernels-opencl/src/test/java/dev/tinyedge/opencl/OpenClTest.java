package dev.tinyedge.opencl;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Library loading and device discovery and selection, on the real ICD loader and PoCL. */
class OpenClTest {

    @Test
    void findsThePoclDevice() {
        List<ClDevice> devices = OpenCl.devices();
        assertFalse(devices.isEmpty(), "PoCL is installed in CI; clinfo lists its device");
        ClDevice pocl = devices.stream().filter(d -> d.platformName().contains("Portable Computing Language"))
                .findFirst().orElseThrow();
        assertTrue(pocl.unifiedMemory(), "a CPU device shares the host's memory");
        assertTrue(pocl.maxWorkGroupSize() >= 64);
    }

    @Test
    void selectsByIndexAndByName() {
        List<ClDevice> devices = OpenCl.devices();
        ClDevice last = devices.getLast();
        assertSame(last, OpenCl.select(devices, Integer.toString(devices.size() - 1)));
        assertSame(devices.getFirst(), OpenCl.select(devices, "portable computing"));
        assertEquals(0, OpenCl.select(devices, "").index());
    }

    @Test
    void unknownSelectionNamesTheDevicesThereAre() {
        List<ClDevice> devices = OpenCl.devices();
        var byName = assertThrows(OpenClUnavailableException.class, () -> OpenCl.select(devices, "Mali-G610"));
        assertTrue(byName.getMessage().contains("0: " + devices.getFirst().name()), byName.getMessage());
        assertThrows(OpenClUnavailableException.class, () -> OpenCl.select(devices, "99"));
    }

    @Test
    void missingLibraryIsReportedNotThrownFromAStaticInitializer() throws IOException, InterruptedException {
        String output = runProbe(Probe.class, "-Dorg.lwjgl.opencl.libname=/nonexistent/libOpenCL.so.1");
        assertTrue(output.lines().anyMatch(line -> line.startsWith(
                "unavailable: OpenCL library /nonexistent/libOpenCL.so.1 not loadable")), output);
    }

    /**
     * Runs {@code main} with {@code args} in a fresh JVM (LWJGL loads the library once per JVM) with one
     * extra JVM option, and returns its output.
     */
    static String runProbe(Class<?> main, String jvmOption, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", jvmOption,
                "-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        return output.strip();
    }

    /** Lists the devices, or says why there are none. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                OpenCl.devices().forEach(d -> System.out.println("device: " + d.describe()));
            } catch (OpenClUnavailableException e) {
                System.out.println("unavailable: " + e.getMessage());
            }
        }
    }
}
