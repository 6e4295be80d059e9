package dev.tinyedge.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.lwjgl.opencl.CL10.*;
import static org.lwjgl.opencl.CL11.CL_DEVICE_HOST_UNIFIED_MEMORY;
import static org.lwjgl.opencl.CL11.CL_DEVICE_OPENCL_C_VERSION;

/**
 * The OpenCL library (the ICD loader, libOpenCL) and the devices it offers.
 *
 * <p>LWJGL would load the library in CL's static initializer and fail there with an
 * ExceptionInInitializerError; with explicit init the load is ours, so a missing library becomes an
 * {@link OpenClUnavailableException} the backend can turn into a CPU fallback. The library name is
 * LWJGL's {@code -Dorg.lwjgl.opencl.libname} when given, else {@code libOpenCL.so.1} (Debian's runtime
 * package has no unversioned libOpenCL.so).
 */
public final class OpenCl {
    private static final String DEFAULT_LIBRARY = "libOpenCL.so.1";

    private static String loadedLibrary;
    private static RuntimeException loadFailure;

    private OpenCl() {
    }

    /** Loads the library named by LWJGL's configuration (once per JVM: LWJGL's CL state is global). */
    public static synchronized void load() {
        load(Configuration.OPENCL_LIBRARY_NAME.get(DEFAULT_LIBRARY));
    }

    static synchronized void load(String library) {
        if (loadedLibrary != null) {
            return;
        }
        if (loadFailure != null) {
            throw loadFailure;
        }
        Configuration.OPENCL_EXPLICIT_INIT.set(true);
        try {
            CL.create(library);
            loadedLibrary = library;
        } catch (UnsatisfiedLinkError | IllegalStateException e) {
            loadFailure = new OpenClUnavailableException("OpenCL library " + library + " not loadable ("
                    + e.getMessage() + "): install an OpenCL driver and the ICD loader (ocl-icd-libopencl1)");
            throw loadFailure;
        }
    }

    /** All devices of all platforms, in the order a device number counts them (clinfo -l's order). */
    public static List<ClDevice> devices() {
        load();
        List<ClDevice> devices = new ArrayList<>();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            int status = clGetPlatformIDs(null, count);
            if (status == -1001 /* CL_PLATFORM_NOT_FOUND_KHR: the loader found no ICD */ || count.get(0) == 0) {
                return devices;
            }
            ClException.check(status, "clGetPlatformIDs");
            PointerBuffer platforms = stack.mallocPointer(count.get(0));
            ClException.check(clGetPlatformIDs(platforms, (IntBuffer) null), "clGetPlatformIDs");
            for (int p = 0; p < platforms.capacity(); p++) {
                long platform = platforms.get(p);
                status = clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, count);
                if (status == CL_DEVICE_NOT_FOUND) {
                    continue;
                }
                ClException.check(status, "clGetDeviceIDs");
                PointerBuffer ids = stack.mallocPointer(count.get(0));
                ClException.check(clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, ids, (IntBuffer) null), "clGetDeviceIDs");
                for (int d = 0; d < ids.capacity(); d++) {
                    devices.add(describe(devices.size(), platform, ids.get(d)));
                }
            }
        }
        return devices;
    }

    /**
     * The device a selector ({@code -Dtinyedge.opencl.device}) names: none takes the first GPU (else the
     * first device), a number N the N-th device, any other text the first device whose device or platform
     * name contains it, ignoring case.
     */
    public static ClDevice select(List<ClDevice> devices, String selector) {
        if (devices.isEmpty()) {
            throw new OpenClUnavailableException("no OpenCL device: no platform installed (check with clinfo)");
        }
        if (selector == null || selector.isBlank()) {
            return devices.stream().filter(ClDevice::gpu).findFirst().orElse(devices.getFirst());
        }
        if (selector.chars().allMatch(Character::isDigit)) {
            int index = Integer.parseInt(selector);
            if (index >= devices.size()) {
                throw new OpenClUnavailableException("no OpenCL device " + index + ": there are " + devices.size()
                        + " (" + names(devices) + ")");
            }
            return devices.get(index);
        }
        String wanted = selector.toLowerCase(Locale.ROOT);
        return devices.stream()
                .filter(d -> d.name().toLowerCase(Locale.ROOT).contains(wanted)
                        || d.platformName().toLowerCase(Locale.ROOT).contains(wanted))
                .findFirst()
                .orElseThrow(() -> new OpenClUnavailableException("no OpenCL device matches '" + selector + "' ("
                        + names(devices) + ")"));
    }

    private static String names(List<ClDevice> devices) {
        return String.join(", ", devices.stream().map(d -> d.index() + ": " + d.name()).toList());
    }

    private static final int CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV = 0x4000;
    private static final int CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV = 0x4001;

    private static ClDevice describe(int index, long platform, long device) {
        Set<String> extensions = Set.copyOf(Arrays.asList(deviceString(device, CL_DEVICE_EXTENSIONS).split("\\s+")));
        int nvidia = extensions.contains("cl_nv_device_attribute_query")
                ? 10 * optionalDeviceInt(device, CL_DEVICE_COMPUTE_CAPABILITY_MAJOR_NV)
                + optionalDeviceInt(device, CL_DEVICE_COMPUTE_CAPABILITY_MINOR_NV)
                : 0;
        return new ClDevice(index, platform, device,
                platformString(platform, CL_PLATFORM_NAME), platformString(platform, CL_PLATFORM_VERSION),
                deviceString(device, CL_DEVICE_NAME), deviceString(device, CL_DEVICE_VERSION),
                deviceString(device, CL_DRIVER_VERSION),
                (deviceLong(device, CL_DEVICE_TYPE) & CL_DEVICE_TYPE_GPU) != 0,
                deviceInt(device, CL_DEVICE_HOST_UNIFIED_MEMORY) != 0,
                deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE), deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                devicePointer(device, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                deviceInt(device, CL_DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT),
                deviceString(device, CL_DEVICE_OPENCL_C_VERSION),
                extensions, nvidia);
    }

    private static String platformString(long platform, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClException.check(clGetPlatformInfo(platform, param, (ByteBuffer) null, size), "clGetPlatformInfo");
            ByteBuffer value = stack.malloc((int) size.get(0));
            ClException.check(clGetPlatformInfo(platform, param, value, null), "clGetPlatformInfo");
            return cString(value);
        }
    }

    private static String deviceString(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClException.check(clGetDeviceInfo(device, param, (ByteBuffer) null, size), "clGetDeviceInfo");
            ByteBuffer value = stack.malloc((int) size.get(0));
            ClException.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return cString(value);
        }
    }

    private static long deviceLong(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer value = stack.mallocLong(1);
            ClException.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    private static int deviceInt(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer value = stack.mallocInt(1);
            ClException.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    /** A vendor's query, 0 where the driver does not answer it: it only tunes the kernels. */
    private static int optionalDeviceInt(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer value = stack.mallocInt(1);
            return clGetDeviceInfo(device, param, value, null) == CL_SUCCESS ? value.get(0) : 0;
        }
    }

    private static long devicePointer(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer value = stack.mallocPointer(1);
            ClException.check(clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    static String cString(ByteBuffer bytes) {
        int end = 0;
        while (end < bytes.limit() && bytes.get(end) != 0) {
            end++;
        }
        byte[] text = new byte[end];
        bytes.get(0, text);
        return new String(text, StandardCharsets.UTF_8).strip();
    }
}
