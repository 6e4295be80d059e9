package dev.tinyedge.opencl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static org.lwjgl.opencl.CL10.clReleaseMemObject;

/**
 * The device's memory bandwidth as a copy kernel reaches it: the ceiling for decode, whose matrix products read
 * each weight once per token. Bytes moved count both the reads and the writes, as copy benchmarks count them
 * (a device-to-device copy of N bytes moves 2N).
 *
 * <p>The buffers must be well past the device's caches: 512 MiB each on a discrete GPU (an H200 has 60 MB of
 * L2), 32 MiB each on unified memory, where the copy's pages count against the process's peak memory and SoC
 * caches are a few MB. Both are capped at a quarter of the device's largest allocation.
 */
final class CopyBandwidth {
    private static final Logger log = LoggerFactory.getLogger(CopyBandwidth.class);
    private static final long DISCRETE_BYTES = 512L << 20;
    private static final long UNIFIED_BYTES = 32L << 20;
    private static final int WARM_UPS = 2;
    private static final int RUNS = 10;

    private CopyBandwidth() {
    }

    /** Bytes per second that the copy kernel moved (read plus written), the best of several runs. */
    static double measure(ClContext cl, Kernels kernels) {
        ClDevice device = cl.device();
        long bytes = Math.min(device.unifiedMemory() ? UNIFIED_BYTES : DISCRETE_BYTES, device.maxAllocationBytes() / 4)
                / 16 * 16;
        long src = cl.temporaryBuffer(bytes);
        long dst = cl.temporaryBuffer(bytes);
        try {
            double best = Double.MAX_VALUE;
            for (int run = 0; run < WARM_UPS + RUNS; run++) {
                long started = System.nanoTime();
                kernels.copy(src, dst, bytes);
                cl.finish();
                double seconds = (System.nanoTime() - started) / 1e9;
                if (run >= WARM_UPS) {
                    best = Math.min(best, seconds);
                }
            }
            double bandwidth = 2.0 * bytes / best;
            log.info("OpenCL: the copy kernel moved {} GB/s ({} MiB buffers, best of {})",
                    Math.round(bandwidth / 1e8) / 10.0, bytes >> 20, RUNS);
            return bandwidth;
        } finally {
            clReleaseMemObject(src);
            clReleaseMemObject(dst);
        }
    }
}
