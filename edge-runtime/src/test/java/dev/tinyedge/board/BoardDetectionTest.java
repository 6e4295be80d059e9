package dev.tinyedge.board;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Auto-detection against fake /proc and /sys trees with what each board's kernel reports. */
class BoardDetectionTest {
    static final ProfileCatalog CATALOG = ProfileCatalog.load(List.of());

    @TempDir
    Path root;

    @ParameterizedTest(name = "{0} with {2} kB -> {4}")
    @CsvSource(delimiter = '|', textBlock = """
            Raspberry Pi 4 Model B Rev 1.1          | raspberrypi,4-model-b;brcm,bcm2711        |   944300 | 0-3 | raspberry-pi-4-1gb
            Raspberry Pi 4 Model B Rev 1.2          | raspberrypi,4-model-b;brcm,bcm2711        |  1892100 | 0-3 | raspberry-pi-4-2gb
            Raspberry Pi 4 Model B Rev 1.4          | raspberrypi,4-model-b;brcm,bcm2711        |  3882000 | 0-3 | raspberry-pi-4-4gb
            Raspberry Pi 400 Rev 1.0                | raspberrypi,400;brcm,bcm2711              |  3882000 | 0-3 | raspberry-pi-4-4gb
            Raspberry Pi Compute Module 4 Rev 1.0   | raspberrypi,4-compute-module;brcm,bcm2711 |  7998000 | 0-3 | raspberry-pi-4-8gb
            Raspberry Pi 5 Model B Rev 1.0          | raspberrypi,5-model-b;brcm,bcm2712        |  4134000 | 0-3 | raspberry-pi-5-4gb
            Raspberry Pi 5 Model B Rev 1.0          | raspberrypi,5-model-b;brcm,bcm2712        |  8245000 | 0-3 | raspberry-pi-5-8gb
            Raspberry Pi 5 Model B Rev 1.1          | raspberrypi,5-model-b;brcm,bcm2712        | 16608000 | 0-3 | raspberry-pi-5-16gb
            NVIDIA Jetson Orin Nano Developer Kit   | nvidia,p3768-0000+p3767-0005;nvidia,p3767-0005;nvidia,tegra234 | 7620000 | 0-5 | jetson-orin-nano-8gb
            Orange Pi 5                             | rockchip,rk3588s-orangepi-5;rockchip,rk3588s |  7928000 | 0-7 | rk3588-8gb
            Orange Pi 5 Plus                        | xunlong,orangepi-5-plus;rockchip,rk3588   | 16119000 | 0-7 | rk3588-16gb
            Radxa ROCK 5B                           | radxa,rock-5b;rockchip,rk3588             | 16119000 | 0-7 | rk3588-16gb
            Radxa ROCK 5 Model B                    | radxa,rock-5b;rockchip,rk3588             | 32400000 | 0-7 | rk3588-16gb
            Orange Pi 5                             | rockchip,rk3588s-orangepi-5;rockchip,rk3588s |  3900000 | 0-7 | generic-arm64
            Raspberry Pi 5 Model B Rev 1.0          | raspberrypi,5-model-b;brcm,bcm2712        |  2040000 | 0-3 | generic-arm64
            Pine64 RockPro64 v2.1                   | pine64,rockpro64;rockchip,rk3399          |  3900000 | 0-5 | generic-arm64
            """)
    void detectsArmBoards(String model, String compatibles, long memTotalKb, String cpus, String expected) throws IOException {
        fakeBoard(model, compatibles.replace(';', '\0') + "\0", memTotalKb, cpus);
        BoardFacts facts = BoardFacts.read(root, "aarch64");
        assertEquals(model, facts.model());
        assertEquals(expected, CATALOG.select("auto", facts).name());
        String reason = CATALOG.detection(facts).reason();
        assertTrue(reason.startsWith("board: " + model + ", aarch64, "), reason);
        assertTrue(reason.endsWith(expected.startsWith("generic") ? "; using " + expected : " -> profile " + expected), reason);
    }

    @Test
    void readsMemoryCpusAndFeatures() throws IOException {
        fakeBoard("Raspberry Pi 5 Model B Rev 1.0", "brcm,bcm2712\0", 8245000, "0-3");
        BoardFacts facts = BoardFacts.read(root, "aarch64");
        assertEquals(8245000L * 1024, facts.memTotalBytes());
        assertEquals(7000000L * 1024, facts.memAvailableBytes());
        assertEquals(4, facts.cpus());
        assertEquals(List.of("fp", "asimd", "asimddp"), facts.cpuFeatures());
        assertEquals(List.of("brcm,bcm2712"), facts.compatibles());
    }

    @Test
    void x86WithoutDeviceTreeFallsBackToTheGenericProfile() throws IOException {
        Files.createDirectories(root.resolve("proc"));
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal:       24683520 kB\nMemAvailable:   20000000 kB\n");
        Files.writeString(root.resolve("proc/cpuinfo"), "processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n");
        Files.createDirectories(root.resolve("sys/devices/system/cpu"));
        Files.writeString(root.resolve("sys/devices/system/cpu/online"), "0-1\n");
        BoardFacts facts = BoardFacts.read(root, "amd64");
        assertEquals("x86_64", facts.arch());
        assertEquals("", facts.model());
        assertEquals("generic-x86_64", CATALOG.select("auto", facts).name());
        assertEquals("board: no device-tree model, x86_64, 2 CPUs, 23.5 GiB: no board profile matches; using generic-x86_64",
                CATALOG.detection(facts).reason());
        assertEquals(List.of("fpu", "sse", "avx2", "avx512f"), facts.cpuFeatures());
    }

    @Test
    void cpuListsAreCounted() {
        assertEquals(4, BoardFacts.onlineCpus("0-3\n"));
        assertEquals(6, BoardFacts.onlineCpus("0-3,6,8"));
        assertEquals(0, BoardFacts.onlineCpus(""));
    }

    private void fakeBoard(String model, String compatibles, long memTotalKb, String cpus) throws IOException {
        Files.createDirectories(root.resolve("proc/device-tree"));
        Files.createDirectories(root.resolve("sys/devices/system/cpu"));
        Files.writeString(root.resolve("proc/device-tree/model"), model + "\0");
        Files.writeString(root.resolve("proc/device-tree/compatible"), compatibles);
        Files.writeString(root.resolve("proc/meminfo"), "MemTotal:       " + memTotalKb
                + " kB\nMemFree:          500000 kB\nMemAvailable:    7000000 kB\n");
        Files.writeString(root.resolve("proc/cpuinfo"), "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd asimddp\n");
        Files.writeString(root.resolve("sys/devices/system/cpu/online"), cpus + "\n");
    }
}
