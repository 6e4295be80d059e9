package dev.tinyedge.opencl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Drops pages of a file mapping from this process with madvise(MADV_DONTNEED), called through the FFM
 * linker (Java has no madvise of its own). Once a weight has been copied to the device, the mapping's
 * pages that held it are only a second copy: dropping them keeps the weights in memory once. The file
 * stays mapped and a later read (e.g. an embedding row) faults its page back in from the page cache.
 */
final class PageDropper {
    private static final Logger log = LoggerFactory.getLogger(PageDropper.class);
    private static final int MADV_DONTNEED = 4; // the same value on every Linux architecture
    private static final MethodHandle MADVISE;
    private static final long PAGE_SIZE;

    static {
        MethodHandle madvise = null;
        long pageSize = 0;
        try {
            Linker linker = Linker.nativeLinker();
            madvise = linker.downcallHandle(linker.defaultLookup().findOrThrow("madvise"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                            ValueLayout.JAVA_INT));
            pageSize = (int) linker.downcallHandle(linker.defaultLookup().findOrThrow("getpagesize"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
        } catch (Throwable e) {
            log.debug("madvise unavailable ({}): mapped weight pages stay resident after upload", e.toString());
            madvise = null;
        }
        MADVISE = madvise;
        PAGE_SIZE = pageSize;
    }

    private PageDropper() {
    }

    /** Drops the whole pages inside {@code region}, a slice of a file mapping. */
    static void drop(MemorySegment region) {
        if (MADVISE == null || !region.isNative()) {
            return;
        }
        long start = (region.address() + PAGE_SIZE - 1) & -PAGE_SIZE;
        long end = (region.address() + region.byteSize()) & -PAGE_SIZE;
        if (end <= start) {
            return;
        }
        try {
            int result = (int) MADVISE.invokeExact(MemorySegment.ofAddress(start), end - start, MADV_DONTNEED);
            if (result != 0) {
                log.debug("madvise(DONTNEED) failed for {} bytes", end - start);
            }
        } catch (Throwable e) {
            throw new IllegalStateException("madvise failed", e);
        }
    }
}
