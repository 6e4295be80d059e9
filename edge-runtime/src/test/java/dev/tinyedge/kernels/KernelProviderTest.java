package dev.tinyedge.kernels;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** The choice of kernels without a native library (the fallback with one is tested in kernels-native). */
class KernelProviderTest {
    private final List<String> log = new ArrayList<>();

    @Test
    void withoutANativeLibraryTheVectorApiKernelsRun() {
        assertSame(JavaKernels.INSTANCE, KernelProvider.select("native", List.of(), log::add));
        assertEquals(List.of("kernels: " + JavaKernels.INSTANCE.description() + " (no native kernel library in this build)"), log);
    }

    @Test
    void aMisspeltChoiceFallsBackToJavaAndSaysSo() {
        assertSame(JavaKernels.INSTANCE, KernelProvider.select("nativ", List.of(), log::add));
        assertEquals(List.of("kernels: " + JavaKernels.INSTANCE.description()
                + " (-Dtinyedge.kernels=nativ is none of java, native, native:TIER)"), log);
    }

    @Test
    void aFactoryThatFailsIsSkippedWithItsReason() {
        KernelProvider.Factory broken = tier -> {
            throw new IllegalStateException("this CPU lacks the native i8mm tier's instructions");
        };
        assertSame(JavaKernels.INSTANCE, KernelProvider.select("native:i8mm", List.of(broken), log::add));
        assertEquals(List.of("kernels: " + JavaKernels.INSTANCE.description()
                + " (this CPU lacks the native i8mm tier's instructions)"), log);
    }
}
