package dev.tinyedge.opencl;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * What the kernels are shaped into for devices as they describe themselves (clinfo's values for an NVIDIA GPU,
 * a Mali-G610 with Arm's driver, an Intel GPU, PoCL), and the properties that override it. Whether the
 * extension kernels then build and compute right is checked on the device itself (bench/opencl-device.sh);
 * PoCL has none of the extensions.
 */
class DeviceTuningTest {

    @AfterEach
    void clearProperties() {
        System.clearProperty(DeviceTuning.PORTABLE_PROPERTY);
        System.clearProperty(DeviceTuning.LANES_PROPERTY);
    }

    private static ClDevice device(boolean gpu, String version, String cVersion, int floatWidth, String... extensions) {
        return nvidia(0, gpu, version, cVersion, floatWidth, extensions);
    }

    private static ClDevice nvidia(int computeCapability, boolean gpu, String version, String cVersion, int floatWidth,
                                   String... extensions) {
        return new ClDevice(0, 1, 2, "platform", version, "device", version, "driver", gpu, !gpu, 1L << 32, 1L << 30,
                1024, floatWidth, cVersion, Set.of(extensions), computeCapability);
    }

    @Test
    void nvidiaGpuGetsAWarpPerRowWithPtxShufflesAndDp4a() {
        DeviceTuning tuning = DeviceTuning.forDevice(nvidia(90, true, "OpenCL 3.0 CUDA", "OpenCL C 1.2 ", 1,
                "cl_khr_fp64", "cl_nv_device_attribute_query"), 32);
        assertEquals(32, tuning.lanes());
        assertEquals(4, tuning.rows());
        assertEquals(4, tuning.vectorWidth());
        assertEquals(DeviceTuning.RowSum.NV_SHUFFLE, tuning.rowSum());
        assertEquals(DeviceTuning.IntegerDot.NV, tuning.integerDot());
        assertEquals("-cl-std=CL1.2 -DLANES=32 -DROWS=4 -DVEC=4 -DTE_NV_SHUFFLE -DTE_DOT_NV", tuning.buildOptions());
    }

    @Test
    void khrDotProductComesBeforeVendorOnes() {
        DeviceTuning tuning = DeviceTuning.forDevice(nvidia(90, true, "OpenCL 3.0 CUDA", "OpenCL C 1.2 ", 1,
                "cl_nv_device_attribute_query", "cl_khr_integer_dot_product"), 32);
        assertEquals(DeviceTuning.IntegerDot.KHR, tuning.integerDot());
        assertEquals("CL3.0", tuning.languageVersion());
    }

    @Test
    void olderNvidiaGpuHasNoDp4a() {
        DeviceTuning tuning = DeviceTuning.forDevice(nvidia(53, true, "OpenCL 1.2 CUDA", "OpenCL C 1.2 ", 1,
                "cl_nv_device_attribute_query"), 32);
        assertEquals(DeviceTuning.IntegerDot.PORTABLE, tuning.integerDot());
        assertEquals(DeviceTuning.RowSum.NV_SHUFFLE, tuning.rowSum());
    }

    @Test
    void maliGetsSubgroupsAndArmsDotProduct() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 2.1 v1.r34p0", "OpenCL C 2.0 v1.r34p0", 4,
                "cl_khr_subgroups", "cl_arm_integer_dot_product_int8"), 16);
        assertEquals(16, tuning.lanes());
        assertEquals(8, tuning.rows());
        assertEquals(DeviceTuning.RowSum.SUBGROUPS, tuning.rowSum());
        assertEquals(DeviceTuning.IntegerDot.ARM, tuning.integerDot());
        assertEquals("-cl-std=CL2.0 -DLANES=16 -DROWS=8 -DVEC=4 -DTE_SUBGROUPS -DTE_DOT_ARM", tuning.buildOptions());
    }

    @Test
    void intelSubgroupsNeedNoNewerOpenClC() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 1.2 NEO", "OpenCL C 1.2", 1,
                "cl_intel_subgroups"), 8);
        assertEquals(DeviceTuning.RowSum.SUBGROUPS, tuning.rowSum());
        assertEquals("CL1.2", tuning.languageVersion());
        assertEquals(8, tuning.lanes());
    }

    @Test
    void cpuDeviceGetsARowPerWorkItemAndWideVectors() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(false, "OpenCL 3.0 PoCL", "OpenCL C 1.2 PoCL", 16,
                "cl_khr_fp64"), 8);
        assertEquals(1, tuning.lanes());
        assertEquals(64, tuning.rows());
        assertEquals(16, tuning.vectorWidth());
        assertFalse(tuning.usesExtensions());
        assertEquals("-cl-std=CL1.2 -DLANES=1 -DROWS=64 -DVEC=16", tuning.buildOptions());
    }

    @Test
    void portablePropertyDropsTheExtensionsAndKeepsTheSplit() {
        System.setProperty(DeviceTuning.PORTABLE_PROPERTY, "true");
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 3.0", "OpenCL C 3.0", 4,
                "cl_khr_subgroups", "cl_khr_integer_dot_product"), 32);
        assertFalse(tuning.usesExtensions());
        assertEquals("-cl-std=CL1.2 -DLANES=32 -DROWS=4 -DVEC=4", tuning.buildOptions());
    }

    @Test
    void lanesPropertySetsTheSplit() {
        System.setProperty(DeviceTuning.LANES_PROPERTY, "8");
        assertEquals(8, DeviceTuning.forDevice(device(false, "OpenCL 3.0", "OpenCL C 1.2", 8), 8).lanes());
        System.setProperty(DeviceTuning.LANES_PROPERTY, "1");
        DeviceTuning perRow = DeviceTuning.forDevice(device(true, "OpenCL 3.0", "OpenCL C 1.2", 1,
                "cl_khr_subgroups"), 32);
        assertEquals(1, perRow.lanes());
        assertEquals(DeviceTuning.RowSum.LOCAL_MEMORY, perRow.rowSum(), "a row per work-item has nothing to sum");
        System.setProperty(DeviceTuning.LANES_PROPERTY, "12");
        assertThrows(IllegalArgumentException.class,
                () -> DeviceTuning.forDevice(device(true, "OpenCL 3.0", "OpenCL C 1.2", 1), 32));
    }
}
