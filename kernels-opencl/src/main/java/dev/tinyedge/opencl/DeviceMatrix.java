package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;

/**
 * A weight matrix [rows][cols] on the device. F32 and F16 keep ggml's layout in {@code values};
 * Q4_0 and Q8_0 are split into quants ({@code values}: 16 or 32 bytes per 32-weight block, ggml's
 * order inside a block) and scales ({@code scales}: one half per block), see {@link WeightLoader}.
 */
public record DeviceMatrix(GgmlType type, int rows, int cols, long values, long scales) {
}
