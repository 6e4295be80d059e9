package dev.tinyedge.opencl;

import java.util.Set;

/**
 * One OpenCL device as the driver describes it. {@code index} is its place in {@link OpenCl#devices()}
 * (platforms in ICD order, devices in platform order), the number
 * {@code -Dtinyedge.opencl.device=N} selects. {@code version} is CL_DEVICE_VERSION ("OpenCL 3.0 ..."),
 * {@code openclCVersion} CL_DEVICE_OPENCL_C_VERSION ("OpenCL C 1.2 ..."); {@code nvidiaComputeCapability} is
 * major * 10 + minor on NVIDIA's driver (cl_nv_device_attribute_query; 90 on an H100/H200), else 0.
 */
public record ClDevice(int index, long platform, long id, String platformName, String platformVersion,
                       String name, String version, String driverVersion, boolean gpu,
                       boolean unifiedMemory, long globalMemoryBytes, long maxAllocationBytes, long maxWorkGroupSize,
                       int preferredFloatVectorWidth, String openclCVersion, Set<String> extensions,
                       int nvidiaComputeCapability) {

    /** Names the compiled-binary cache: a program binary is only valid for this exact device and driver. */
    String cacheIdentity() {
        return platformName + "|" + platformVersion + "|" + name + "|" + version + "|" + driverVersion;
    }

    public boolean has(String extension) {
        return extensions.contains(extension);
    }

    /** One line for logs and {@code backendDescription()}: name, driver, memory. */
    public String describe() {
        return "%s (%s, driver %s, %d MiB%s)".formatted(name, platformName, driverVersion,
                globalMemoryBytes >> 20, unifiedMemory ? ", unified memory" : "");
    }
}
