package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.lwjgl.system.MemoryUtil;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;
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
    /** As the backend would shape them for this device (on PoCL: a work-item per row), f32 KV caches. */
    final Kernels kernels;
    private final Map<String, Kernels> shaped = new HashMap<>();

    private TestDevice() {
        cl = new ClContext(OpenCl.select(OpenCl.devices(), null));
        programs = new ClPrograms(cl, ClPrograms.defaultCacheDir(), null);
        kernels = new Kernels(cl, programs, DeviceTuning.forDevice(cl.device(), Kernels.simdWidth(cl, programs)), false);
    }

    /**
     * Kernels with a GPU's decode split, which a CPU device would not get by default: {@code lanes} work-items per
     * row in work-groups of 128, portable arithmetic.
     */
    synchronized Kernels withLanes(int lanes) {
        return shaped.computeIfAbsent("lanes " + lanes, key -> new Kernels(cl, programs,
                new DeviceTuning(lanes, 128 / lanes, 4, DeviceTuning.RowSum.LOCAL_MEMORY,
                        DeviceTuning.IntegerDot.PORTABLE, "CL1.2"), false));
    }

    /** The default kernels, with fp16 KV caches. */
    synchronized Kernels withHalfKv() {
        return shaped.computeIfAbsent("half kv", key -> new Kernels(cl, programs, kernels.tuning(), true));
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

    byte[] downloadBytes(long buffer, int length) {
        ByteBuffer staging = MemoryUtil.memAlloc(length);
        try {
            cl.read(buffer, 0, staging);
            byte[] bytes = new byte[length];
            staging.get(0, bytes);
            return bytes;
        } finally {
            MemoryUtil.memFree(staging);
        }
    }

    short[] downloadShorts(long buffer, int length) {
        ByteBuffer staging = MemoryUtil.memAlloc(length * Short.BYTES);
        try {
            cl.read(buffer, 0, staging);
            short[] values = new short[length];
            staging.order(ByteOrder.nativeOrder()).asShortBuffer().get(values);
            return values;
        } finally {
            MemoryUtil.memFree(staging);
        }
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
            case Q4_K, Q5_K -> {
                for (long b = 0; b < elements / 256; b++) {
                    data.putShort(Float.floatToFloat16((0.5f + random.nextFloat()) / 512)); // d
                    data.putShort(Float.floatToFloat16((0.5f + random.nextFloat()) / 256)); // dmin
                    for (int j = 0; j < type.typeSize - 4; j++) { // scales and mins, (fifth bits,) nibbles
                        data.put((byte) random.nextInt(256));
                    }
                }
            }
            case Q6_K -> {
                for (long b = 0; b < elements / 256; b++) {
                    for (int j = 0; j < 192; j++) { // low nibbles, high bits
                        data.put((byte) random.nextInt(256));
                    }
                    for (int j = 0; j < 16; j++) {
                        data.put((byte) (random.nextInt(256) - 128));
                    }
                    data.putShort(Float.floatToFloat16((0.5f + random.nextFloat()) / 4096)); // d
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
