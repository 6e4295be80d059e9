package dev.tinyedge.kernels.ffm;

import dev.tinyedge.kernels.JavaKernels;
import dev.tinyedge.kernels.KernelProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What runs when the native kernels cannot: the Vector API kernels, and one log line saying why. */
class KernelSelectionTest {
    private static final List<KernelProvider.Factory> NATIVE = List.of(new NativeKernelsFactory());
    private final List<String> log = new ArrayList<>();

    @TempDir
    Path temp;

    @Test
    void theDefaultIsThisCpusBestNativeTier() {
        KernelProvider provider = KernelProvider.select("native", NATIVE, log::add);
        List<String> tiers = NativeKernels.supportedTiers();
        assertEquals("native " + tiers.getLast(), provider.description());
        assertEquals(List.of("kernels: native " + tiers.getLast()), log);
    }

    @Test
    void javaIsForcedByTheProperty() {
        assertSame(JavaKernels.INSTANCE, KernelProvider.select("java", NATIVE, log::add));
        assertEquals(List.of("kernels: " + JavaKernels.INSTANCE.description() + " (-Dtinyedge.kernels=java)"), log);
    }

    @Test
    void aTierThisCpuLacksFallsBackToJava() {
        String lacking = List.of("avx2-vnni", "avx512-vnni", "neon", "i8mm").stream()
                .filter(t -> !NativeKernels.supportedTiers().contains(t)).findFirst().orElseThrow();
        assertSame(JavaKernels.INSTANCE, KernelProvider.select("native:" + lacking, NATIVE, log::add));
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.getFirst().startsWith("kernels: java ") && log.getFirst().contains("lacks the native " + lacking), log.toString());
    }

    @Test
    void aMissingLibraryFallsBackToJava() {
        String before = System.getProperty("tinyedge.native.dir");
        System.setProperty("tinyedge.native.dir", temp.toString());
        try {
            assertSame(JavaKernels.INSTANCE, KernelProvider.select("native", NATIVE, log::add));
        } finally {
            restore(before);
        }
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.getFirst().contains("no native kernel library at " + temp), log.toString());
    }

    @Test
    void anUnloadableLibraryFallsBackToJava() throws Exception {
        Path platform = Files.createDirectories(temp.resolve(NativeLibrary.platform()));
        Files.writeString(platform.resolve(NativeLibrary.FILE), "not an ELF file");
        String before = System.getProperty("tinyedge.native.dir");
        System.setProperty("tinyedge.native.dir", temp.toString());
        try {
            assertSame(JavaKernels.INSTANCE, KernelProvider.select("native", NATIVE, log::add));
        } finally {
            restore(before);
        }
        assertEquals(1, log.size(), log.toString());
        assertTrue(log.getFirst().startsWith("kernels: java ") && log.getFirst().contains(NativeLibrary.FILE), log.toString());
    }

    private static void restore(String value) {
        if (value == null) {
            System.clearProperty("tinyedge.native.dir");
        } else {
            System.setProperty("tinyedge.native.dir", value);
        }
    }
}
