package dev.tinyedge.opencl;

/**
 * One OpenCL device as the driver describes it. {@code index} is its place in {@link OpenCl#devices()}
 * (platforms in ICD order, devices in platform order), the number
 * {@code -Dtinyedge.opencl.device=N} selects.
 */
public record ClDevice(int index, long platform, long id, String platformName, String platformVersion,
                       String name, String version, String driverVersion, boolean gpu,
                       boolean unifiedMemory, long globalMemoryBytes, long maxWorkGroupSize) {

    /** Names the compiled-binary cache: a program binary is only valid for this exact device and driver. */
    String cacheIdentity() {
        return platformName + "|" + platformVersion + "|" + name + "|" + version + "|" + driverVersion;
    }

    /** One line for logs and {@code backendDescription()}: name, driver, memory. */
    public String describe() {
        return "%s (%s, driver %s, %d MiB%s)".formatted(name, platformName, driverVersion,
                globalMemoryBytes >> 20, unifiedMemory ? ", unified memory" : "");
    }
}
