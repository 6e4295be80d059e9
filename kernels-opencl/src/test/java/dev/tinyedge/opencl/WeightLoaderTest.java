package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Uploading weights from a real file mapping: the result computes right and the mapping's pages are let go. */
class WeightLoaderTest {
    private static final int ROWS = 2048;
    private static final int COLS = 16384; // 2048 x 16384 Q8_0 = 34 MiB

    private final TestDevice device = TestDevice.get();

    @Test
    void uploadDropsTheMappedPagesItCopied(@TempDir Path folder) throws IOException {
        byte[] tensor = TestDevice.randomTensor(new Random(7), GgmlType.Q8_0, ROWS, COLS);
        Path file = Files.write(folder.resolve("weights.bin"), tensor);
        try (Arena arena = Arena.ofShared(); FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, tensor.length, arena);
            long checksum = 0;
            for (long at = 0; at < mapped.byteSize(); at += 4096) {
                checksum += mapped.get(ValueLayout.JAVA_BYTE, at); // fault every page in
            }
            long before = residentFileKb();

            DeviceMatrix matrix = device.uploadMatrix(GgmlType.Q8_0, mapped, ROWS, COLS);

            long after = residentFileKb();
            long mappedKb = tensor.length / 1024;
            assertTrue(before - after > mappedKb * 9 / 10, "file-backed RSS went from " + before + " kB to " + after
                    + " kB; expected it to shrink by about " + mappedKb + " kB (checksum " + checksum + ")");

            float[] x = TestDevice.randomFloats(new Random(8), COLS, 1);
            long y = device.cl.buffer((long) ROWS * Float.BYTES);
            device.kernels.matmul(matrix, device.upload(x), y, 1);
            float[] expected = Reference.matmul(GgmlType.Q8_0, tensor, ROWS, COLS, x, 1);
            double error = TestDevice.relativeError(device.download(y, ROWS), expected);
            assertTrue(error < 1e-5, "relative error " + error);
        }
    }

    private static long residentFileKb() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("RssFile:"))
                .mapToLong(line -> Long.parseLong(line.replaceAll("\\D", "")))
                .findFirst().orElseThrow();
    }
}
