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
 *   row (lanes 1) in work-groups of 64: there barriers are loops, so a row per work-item is faster.</li>
 * <li>{@code vectorWidth}: floats per load in the F32/F16 decode kernels, the device's preferred float vector
 *   width within 4..16 (16 on an AVX-512 CPU, 4 on GPUs that report scalar lanes).</li>
 * <li>{@code rowSum}: a row's lanes are summed with {@code sub_group_reduce_add} where {@code cl_khr_subgroups}
 *   or {@code cl_intel_subgroups} offers it, with PTX warp shuffles on NVIDIA (whose OpenCL has no subgroups but
 *   compiles inline PTX), else with a tree in local memory, a barrier per level.</li>
 * <li>{@code integerDot}: 4 x int8 dot products from {@code cl_khr_integer_dot_product},
 *   {@code cl_arm_integer_dot_product_int8} (Mali) or PTX's {@code dp4a} (NVIDIA, compute capability 6.1 and up);
 *   the portable path multiplies in int and gives the same sums.</li>
 * </ul>
 *
 * {@code -Dtinyedge.opencl.portable=true} forces the portable path (no subgroups, no integer dot products), to
 * compare both on a board; {@code -Dtinyedge.opencl.lanes=N} sets the lanes per row (1: a work-item per row).
 */
public record DeviceTuning(int lanes, int rows, int vectorWidth, RowSum rowSum, IntegerDot integerDot,
                           String languageVersion) {
    static final String PORTABLE_PROPERTY = "tinyedge.opencl.portable";
    static final String LANES_PROPERTY = "tinyedge.opencl.lanes";
    private static final int GPU_GROUP_SIZE = 128;
    private static final int CPU_GROUP_SIZE = 64;

    /** How the partial sums of a row's lanes are added up. */
    public enum RowSum {
        /** A tree in local memory: any device. */
        LOCAL_MEMORY,
        /** {@code sub_group_reduce_add} of cl_khr_subgroups or cl_intel_subgroups. */
        SUBGROUPS,
        /** PTX {@code shfl.sync.bfly} on NVIDIA. */
        NV_SHUFFLE
    }

    /** Where a 4 x int8 dot product comes from. */
    public enum IntegerDot {
        /** int multiplies and adds: any device. */
        PORTABLE,
        /** {@code dot(char4, char4)} of cl_khr_integer_dot_product. */
        KHR,
        /** {@code arm_dot(char4, char4)} of cl_arm_integer_dot_product_int8. */
        ARM,
        /** PTX {@code dp4a} on NVIDIA. */
        NV
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
        int nvidia = device.nvidiaComputeCapability();
        RowSum rowSum = portable || lanes == 1 ? RowSum.LOCAL_MEMORY
                : device.has("cl_khr_subgroups") || device.has("cl_intel_subgroups") ? RowSum.SUBGROUPS
                : nvidia >= 30 && lanes <= 32 ? RowSum.NV_SHUFFLE
                : RowSum.LOCAL_MEMORY;
        IntegerDot dot = portable ? IntegerDot.PORTABLE
                : device.has("cl_khr_integer_dot_product") ? IntegerDot.KHR
                : device.has("cl_arm_integer_dot_product_int8") ? IntegerDot.ARM
                : nvidia >= 61 ? IntegerDot.NV
                : IntegerDot.PORTABLE;
        boolean newerC = dot == IntegerDot.KHR || rowSum == RowSum.SUBGROUPS && device.has("cl_khr_subgroups");
        return new DeviceTuning(lanes, groupSize / lanes, vectorWidth, rowSum, dot, languageVersion(device, newerC));
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
     * OpenCL C 1.2 (what every device takes) unless the kernels need more: cl_khr_subgroups' built-ins and the
     * feature macros of cl_khr_integer_dot_product come with the device's newer OpenCL C.
     */
    private static String languageVersion(ClDevice device, boolean newer) {
        if (newer && device.version().startsWith("OpenCL 3")) {
            return "CL3.0";
        }
        if (newer && device.openclCVersion().matches("OpenCL C 2\\..*")) {
            return "CL2.0";
        }
        return "CL1.2";
    }

    /** The same split without optional extensions: what a driver that rejects them gets. */
    public DeviceTuning portable() {
        return new DeviceTuning(lanes, rows, vectorWidth, RowSum.LOCAL_MEMORY, IntegerDot.PORTABLE, "CL1.2");
    }

    public boolean usesExtensions() {
        return rowSum != RowSum.LOCAL_MEMORY || integerDot != IntegerDot.PORTABLE;
    }

    public int groupSize() {
        return lanes * rows;
    }

    /** Build options for the programs that read the tuning. */
    String buildOptions() {
        List<String> options = new ArrayList<>(List.of("-cl-std=" + languageVersion, "-DLANES=" + lanes,
                "-DROWS=" + rows, "-DVEC=" + vectorWidth));
        switch (rowSum) {
            case SUBGROUPS -> options.add("-DTE_SUBGROUPS");
            case NV_SHUFFLE -> options.add("-DTE_NV_SHUFFLE");
            case LOCAL_MEMORY -> {
            }
        }
        if (integerDot != IntegerDot.PORTABLE) {
            options.add("-DTE_DOT_" + integerDot);
        }
        return String.join(" ", options);
    }

    /** For logs: "16 lanes x 8 rows, float4, row sums subgroups, integer dot arm". */
    public String describe() {
        return "%d lane%s x %d rows, float%d, row sums %s, integer dot %s".formatted(lanes, lanes == 1 ? "" : "s",
                rows, vectorWidth, rowSum.name().toLowerCase(Locale.ROOT).replace('_', ' '),
                integerDot.name().toLowerCase(Locale.ROOT));
    }
}
