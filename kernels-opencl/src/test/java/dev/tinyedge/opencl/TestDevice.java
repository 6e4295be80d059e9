package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.lwjgl.system.MemoryUtil;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;

/**
 * The OpenCL device the tests run on (PoCL's CPU device in CI), opened once per test JVM, plus helpers
 * for random ggml data and error measures. Kernel binaries are cached (the pom points the cache into
 * target/) so that a second run skips PoCL's slow compiles.
 */
final class TestDevice {
    private static TestDevice instance;

    final ClContext cl;
    final ClPrograms programs;
    final Kernels kernels;
    /** The GPU split of the one-token products, which a CPU device (PoCL) would not get by default. */
    final Kernels rowPerGroupKernels;

    private TestDevice() {
        cl = new ClContext(OpenCl.select(OpenCl.devices(), null));
        programs = new ClPrograms(cl, ClPrograms.defaultCacheDir(), null);
        kernels = new Kernels(cl, programs);
        rowPerGroupKernels = new Kernels(cl, programs, Kernels.MatVecSplit.ROW_PER_GROUP);
    }

    static synchronized TestDevice get() {
        if (instance == null) {
            instance = new TestDevice();
        }
        return instance;
    }

    long upload(float[] values) {
        long buffer = cl.buffer((long) values.length * Float.BYTES);
        FloatBuffer staging = MemoryUtil.memAllocFloat(values.length).put(0, values);
        try {
            cl.write(buffer, 0, staging);
        } finally {
            MemoryUtil.memFree(staging);
        }
        return buffer;
    }

    float[] download(long buffer, int length) {
        float[] values = new float[length];
        cl.read(buffer, 0, values);
        return values;
    }

    DeviceMatrix uploadMatrix(GgmlType type, byte[] data, int rows, int cols) {
        return uploadMatrix(type, MemorySegment.ofArray(data), rows, cols);
    }

    DeviceMatrix uploadMatrix(GgmlType type, MemorySegment data, int rows, int cols) {
        return new WeightLoader(cl).upload(type, rows, cols, data);
    }

    static float[] randomFloats(Random random, int n, float scale) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (random.nextFloat() * 2 - 1) * scale;
        }
        return values;
    }

    /** A random [rows][cols] tensor of the given type in ggml's byte layout. */
    static byte[] randomTensor(Random random, GgmlType type, int rows, int cols) {
        long elements = (long) rows * cols;
        ByteBuffer data = ByteBuffer.allocate((int) type.byteSize(elements)).order(ByteOrder.LITTLE_ENDIAN);
        switch (type) {
            case F32 -> {
                for (long i = 0; i < elements; i++) {
                    data.putFloat(random.nextFloat() * 2 - 1);
                }
            }
            case F16 -> {
                for (long i = 0; i < elements; i++) {
                    data.putShort(Float.floatToFloat16(random.nextFloat() * 2 - 1));
                }
            }
            case Q8_0 -> {
                for (long b = 0; b < elements / 32; b++) {
                    data.putShort(Float.floatToFloat16((random.nextFloat() * 2 - 1) / 127));
                    for (int j = 0; j < 32; j++) {
                        data.put((byte) (random.nextInt(255) - 127));
                    }
                }
            }
            case Q4_0 -> {
                for (long b = 0; b < elements / 32; b++) {
                    data.putShort(Float.floatToFloat16((random.nextFloat() * 2 - 1) / 8));
                    for (int j = 0; j < 16; j++) {
                        data.put((byte) random.nextInt(256));
                    }
                }
            }
            default -> throw new IllegalArgumentException(type.toString());
        }
        return data.array();
    }

    /** ||actual - expected|| / ||expected|| (Euclidean). */
    static double relativeError(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException(actual.length + " != " + expected.length);
        }
        double difference = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            difference += Math.pow(actual[i] - expected[i], 2);
            norm += Math.pow(expected[i], 2);
        }
        return Math.sqrt(difference / norm);
    }
}
