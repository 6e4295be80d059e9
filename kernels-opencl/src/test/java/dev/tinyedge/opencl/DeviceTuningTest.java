package dev.tinyedge.opencl;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        return new ClDevice(0, 1, 2, "platform", version, "device", version, "driver", gpu, !gpu, 1L << 32, 1L << 30,
                1024, floatWidth, cVersion, Set.of(extensions));
    }

    @Test
    void nvidiaGpuGetsAWarpPerRowAndIntegerDotProducts() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 3.0 CUDA", "OpenCL C 1.2 ", 1,
                "cl_khr_fp64", "cl_khr_integer_dot_product"), 32);
        assertEquals(32, tuning.lanes());
        assertEquals(4, tuning.rows());
        assertEquals(4, tuning.vectorWidth());
        assertFalse(tuning.subgroups());
        assertEquals(DeviceTuning.IntegerDot.KHR, tuning.integerDot());
        assertEquals("CL3.0", tuning.languageVersion());
        assertEquals("-cl-std=CL3.0 -DLANES=32 -DROWS=4 -DVEC=4 -DTE_DOT_KHR", tuning.buildOptions());
    }

    @Test
    void maliGetsSubgroupsAndArmsDotProduct() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 2.1 v1.r34p0", "OpenCL C 2.0 v1.r34p0", 4,
                "cl_khr_subgroups", "cl_arm_integer_dot_product_int8"), 16);
        assertEquals(16, tuning.lanes());
        assertEquals(8, tuning.rows());
        assertTrue(tuning.subgroups());
        assertEquals(DeviceTuning.IntegerDot.ARM, tuning.integerDot());
        assertEquals("-cl-std=CL2.0 -DLANES=16 -DROWS=8 -DVEC=4 -DTE_SUBGROUPS -DTE_DOT_ARM", tuning.buildOptions());
    }

    @Test
    void intelSubgroupsNeedNoNewerOpenClC() {
        DeviceTuning tuning = DeviceTuning.forDevice(device(true, "OpenCL 1.2 NEO", "OpenCL C 1.2", 1,
                "cl_intel_subgroups"), 8);
        assertTrue(tuning.subgroups());
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
        assertFalse(tuning.subgroups());
        assertEquals(DeviceTuning.IntegerDot.PORTABLE, tuning.integerDot());
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
        assertFalse(perRow.subgroups(), "a row per work-item has nothing to sum across a subgroup");
        System.setProperty(DeviceTuning.LANES_PROPERTY, "12");
        assertThrows(IllegalArgumentException.class,
                () -> DeviceTuning.forDevice(device(true, "OpenCL 3.0", "OpenCL C 1.2", 1), 32));
    }
}
