package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;

/**
 * Scalar reference of every kernel: plain loops in double precision over ggml's byte layout, written
 * from the definitions (ggml-common.h blocks, llama.cpp's forward pass), independent of the kernels.
 */
final class Reference {
    private Reference() {
    }

    /** Element {@code i} of a ggml tensor stored in {@code data}. */
    static double weight(GgmlType type, byte[] data, long i) {
        return switch (type) {
            case F32 -> Float.intBitsToFloat(int32(data, (int) (4 * i)));
            case F16 -> Float.float16ToFloat((short) int16(data, (int) (2 * i)));
            case Q8_0 -> {
                int block = (int) (i / 32) * 34;
                yield data[block + 2 + (int) (i % 32)] * (double) Float.float16ToFloat((short) int16(data, block));
            }
            case Q4_0 -> {
                int block = (int) (i / 32) * 18;
                int j = (int) (i % 32);
                int packed = data[block + 2 + (j % 16)] & 0xFF;
                int q = j < 16 ? packed & 15 : packed >> 4;
                yield (q - 8) * (double) Float.float16ToFloat((short) int16(data, block));
            }
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** y[t][r] = sum_c W[r][c] x[t][c], with x rounded to Q8_0 first for Q4_0 and Q8_0 weights. */
    static float[] matmul(GgmlType type, byte[] w, int rows, int cols, float[] x, int tokens) {
        if (type == GgmlType.Q4_0 || type == GgmlType.Q8_0) {
            x = roundedToQ8_0(x);
        }
        float[] y = new float[tokens * rows];
        for (int t = 0; t < tokens; t++) {
            for (int r = 0; r < rows; r++) {
                double sum = 0;
                for (int c = 0; c < cols; c++) {
                    sum += weight(type, w, (long) r * cols + c) * x[t * cols + c];
                }
                y[t * rows + r] = (float) sum;
            }
        }
        return y;
    }

    /** Blocks of 32: scale amax/127 as fp16, each value rounded (half to even) to a multiple of it. */
    static float[] roundedToQ8_0(float[] x) {
        float[] out = new float[x.length];
        for (int block = 0; block < x.length; block += 32) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[block + j]));
            }
            float d = amax / 127;
            float id = d == 0 ? 0 : 1 / d;
            float scale = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                out[block + j] = (float) Math.rint(x[block + j] * id) * scale;
            }
        }
        return out;
    }

    static float[] rmsNorm(float[] x, float[] w, int tokens, int dim, float eps) {
        float[] out = new float[tokens * dim];
        for (int t = 0; t < tokens; t++) {
            double squares = 0;
            for (int i = 0; i < dim; i++) {
                squares += (double) x[t * dim + i] * x[t * dim + i];
            }
            double scale = 1 / Math.sqrt(squares / dim + eps);
            for (int i = 0; i < dim; i++) {
                out[t * dim + i] = (float) (x[t * dim + i] * scale * w[i]);
            }
        }
        return out;
    }

    /** llama.cpp normal-mode RoPE: adjacent pairs, theta = pos * base^(-2i/nRot). */
    static float[] rope(float[] x, int tokens, int heads, int headDim, int nRot, int startPos, float base) {
        float[] out = x.clone();
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; 2 * i < nRot; i++) {
                    int at = (t * heads + h) * headDim + 2 * i;
                    double theta = (startPos + t) * Math.pow(base, -2.0 * i / nRot);
                    double x0 = x[at];
                    double x1 = x[at + 1];
                    out[at] = (float) (x0 * Math.cos(theta) - x1 * Math.sin(theta));
                    out[at + 1] = (float) (x0 * Math.sin(theta) + x1 * Math.cos(theta));
                }
            }
        }
        return out;
    }

    /** Softmax of the first len entries of x[from..], written back in place. */
    static void softmax(float[] x, int from, int len) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, x[from + i]);
        }
        double sum = 0;
        for (int i = 0; i < len; i++) {
            sum += Math.exp(x[from + i] - max);
        }
        for (int i = 0; i < len; i++) {
            x[from + i] = (float) (Math.exp(x[from + i] - max) / sum);
        }
    }

    /**
     * Causal GQA attention: query head h of token t (position startPos + t) attends to positions
     * 0..startPos + t of kv head h / (heads / kvHeads), scores scaled by 1/sqrt(headDim).
     */
    static float[] attention(float[] q, float[] k, float[] v, int tokens, int heads, int kvHeads, int headDim,
                             int startPos) {
        float[] out = new float[tokens * heads * headDim];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int kvHead = h / (heads / kvHeads);
                int len = startPos + t + 1;
                float[] scores = new float[len];
                for (int j = 0; j < len; j++) {
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += (double) q[(t * heads + h) * headDim + i] * k[(j * kvHeads + kvHead) * headDim + i];
                    }
                    scores[j] = (float) (dot / Math.sqrt(headDim));
                }
                softmax(scores, 0, len);
                for (int i = 0; i < headDim; i++) {
                    double sum = 0;
                    for (int j = 0; j < len; j++) {
                        sum += scores[j] * (double) v[(j * kvHeads + kvHead) * headDim + i];
                    }
                    out[(t * heads + h) * headDim + i] = (float) sum;
                }
            }
        }
        return out;
    }

    static float[] swiglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < gate.length; i++) {
            double g = gate[i];
            out[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
        }
        return out;
    }

    private static int int16(byte[] data, int at) {
        return (data[at] & 0xFF) | (data[at + 1] & 0xFF) << 8;
    }

    private static int int32(byte[] data, int at) {
        return int16(data, at) | int16(data, at + 2) << 16;
    }
}
