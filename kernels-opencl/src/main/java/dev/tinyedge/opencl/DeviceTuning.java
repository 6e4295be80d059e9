package dev.tinyedge.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How the matrix kernels are shaped for one device, chosen from what the device reports and compiled into
 * them as defines (common.cl reads them).
 *
 * <ul>
 * <li>{@code lanes}, {@code rows}: the decode split. A GPU gets {@code lanes} work-items per output row, as many
 *   as its SIMD width (the preferred work-group size multiple of a kernel: an NVIDIA warp, an AMD wavefront, a
 *   Mali or Adreno subgroup; at most 64), so that neighbouring work-items read neighbouring memory and the loads
 *   coalesce, and {@code rows} rows per work-group of 128 work-items. A CPU device (PoCL) gets a work-item per
 *   row (lanes 1) in work-groups of 64: there barriers are loops and a row per work-item ran 1.2-3x faster.</li>
 * <li>{@code vectorWidth}: floats per load in the F32/F16 decode kernels, the device's preferred float vector
 *   width within 4..16 (16 on an AVX-512 CPU, 4 on GPUs that report scalar lanes).</li>
 * <li>{@code subgroups}: a row's lanes are summed with {@code sub_group_reduce_add} where {@code cl_khr_subgroups}
 *   or {@code cl_intel_subgroups} offers it, instead of a tree in local memory with a barrier per level.</li>
 * <li>{@code integerDot}: 4 x int8 dot products from {@code cl_khr_integer_dot_product} or
 *   {@code cl_arm_integer_dot_product_int8} (Mali); the portable path multiplies in int and gives the same sums.</li>
 * </ul>
 *
 * {@code -Dtinyedge.opencl.portable=true} forces the portable path (no subgroups, no integer dot products), to
 * compare both on a board; {@code -Dtinyedge.opencl.lanes=N} sets the lanes per row (1: a work-item per row).
 */
public record DeviceTuning(int lanes, int rows, int vectorWidth, boolean subgroups, IntegerDot integerDot,
                           String languageVersion) {
    static final String PORTABLE_PROPERTY = "tinyedge.opencl.portable";
    static final String LANES_PROPERTY = "tinyedge.opencl.lanes";
    private static final int GPU_GROUP_SIZE = 128;
    private static final int CPU_GROUP_SIZE = 64;

    /** Where a 4 x int8 dot product comes from. */
    public enum IntegerDot {
        /** int multiplies and adds: any device. */
        PORTABLE,
        /** {@code dot(char4, char4)} of cl_khr_integer_dot_product. */
        KHR,
        /** {@code arm_dot(char4, char4)} of cl_arm_integer_dot_product_int8. */
        ARM
    }

    /**
     * The tuning for {@code device}, whose kernels prefer work-group sizes in multiples of {@code simdWidth};
     * the system properties above override.
     */
    public static DeviceTuning forDevice(ClDevice device, int simdWidth) {
        boolean portable = Boolean.getBoolean(PORTABLE_PROPERTY);
        int lanes = device.gpu() ? Math.clamp(Integer.highestOneBit(Math.max(simdWidth, 1)), 4, 64) : 1;
        String configured = System.getProperty(LANES_PROPERTY);
        if (configured != null) {
            lanes = parseLanes(configured);
        }
        int groupSize = (int) Math.min(lanes > 1 ? GPU_GROUP_SIZE : CPU_GROUP_SIZE,
                Integer.highestOneBit((int) Math.min(device.maxWorkGroupSize(), 1 << 20)));
        lanes = Math.min(lanes, groupSize);
        int vectorWidth = Math.clamp(Integer.highestOneBit(Math.max(device.preferredFloatVectorWidth(), 1)), 4, 16);
        boolean subgroups = !portable && lanes > 1
                && (device.has("cl_khr_subgroups") || device.has("cl_intel_subgroups"));
        IntegerDot dot = portable ? IntegerDot.PORTABLE
                : device.has("cl_khr_integer_dot_product") ? IntegerDot.KHR
                : device.has("cl_arm_integer_dot_product_int8") ? IntegerDot.ARM
                : IntegerDot.PORTABLE;
        return new DeviceTuning(lanes, groupSize / lanes, vectorWidth, subgroups, dot,
                languageVersion(device, subgroups || dot != IntegerDot.PORTABLE));
    }

    private static int parseLanes(String value) {
        try {
            int lanes = Integer.parseInt(value.strip());
            if (lanes >= 1 && lanes <= 128 && Integer.bitCount(lanes) == 1) {
                return lanes;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("-D" + LANES_PROPERTY + " must be a power of two from 1 to 128, not " + value);
    }

    /**
     * OpenCL C 1.2 (what every device takes) unless an extension is used: sub_group_* built-ins and the feature
     * macros of integer dot products need the device's newer OpenCL C.
     */
    private static String languageVersion(ClDevice device, boolean extensions) {
        if (extensions && device.version().startsWith("OpenCL 3")) {
            return "CL3.0";
        }
        if (extensions && device.openclCVersion().matches("OpenCL C 2\\..*")) {
            return "CL2.0";
        }
        return "CL1.2";
    }

    /** The same split without optional extensions: what a driver that rejects them gets. */
    public DeviceTuning portable() {
        return new DeviceTuning(lanes, rows, vectorWidth, false, IntegerDot.PORTABLE, "CL1.2");
    }

    public boolean usesExtensions() {
        return subgroups || integerDot != IntegerDot.PORTABLE;
    }

    public int groupSize() {
        return lanes * rows;
    }

    /** Build options for the programs that read the tuning. */
    String buildOptions() {
        List<String> options = new ArrayList<>(List.of("-cl-std=" + languageVersion, "-DLANES=" + lanes,
                "-DROWS=" + rows, "-DVEC=" + vectorWidth));
        if (subgroups) {
            options.add("-DTE_SUBGROUPS");
        }
        if (integerDot != IntegerDot.PORTABLE) {
            options.add("-DTE_DOT_" + integerDot);
        }
        return String.join(" ", options);
    }

    /** For logs: "8 lanes x 16 rows, float8, subgroups, integer dot khr". */
    public String describe() {
        return "%d lane%s x %d rows, float%d%s, integer dot %s".formatted(lanes, lanes == 1 ? "" : "s", rows,
                vectorWidth, subgroups ? ", subgroups" : "", integerDot.name().toLowerCase(Locale.ROOT));
    }
}
