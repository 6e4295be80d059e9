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
        int j = (int) (i % type.blockSize);
        int block = (int) (i / type.blockSize) * type.typeSize;
        return switch (type) {
            case F32 -> Float.intBitsToFloat(int32(data, (int) (4 * i)));
            case F16 -> half(data, (int) (2 * i));
            case Q8_0 -> data[block + 2 + j] * half(data, block);
            case Q4_0 -> {
                int packed = data[block + 2 + (j % 16)] & 0xFF;
                int q = j < 16 ? packed & 15 : packed >> 4;
                yield (q - 8) * half(data, block);
            }
            case Q4_K, Q5_K -> {
                // 64-weight runs: byte l of run c holds weight 64c + l (low nibble) and 64c + 32 + l (high)
                int run = j / 64;
                int l = j % 64;
                int sub = 2 * run + l / 32;
                int quants = type == GgmlType.Q4_K ? 16 : 48;
                int packed = data[block + quants + run * 32 + l % 32] & 0xFF;
                int q = l < 32 ? packed & 15 : packed >> 4;
                if (type == GgmlType.Q5_K) {
                    q |= ((data[block + 16 + l % 32] >> sub) & 1) << 4;
                }
                int[] scaleMin = scaleMin(data, block + 4, sub);
                yield half(data, block) * scaleMin[0] * q - half(data, block + 2) * scaleMin[1];
            }
            case Q6_K -> {
                // halves of 128: byte l of the first 32 holds weights l and 64 + l, of the next 32: 32 + l, 96 + l
                int h = j / 128;
                int quarter = j % 128 / 32;
                int l = j % 32;
                int nibbles = data[block + h * 64 + (quarter % 2) * 32 + l] & 0xFF;
                int low = quarter < 2 ? nibbles & 15 : nibbles >> 4;
                int high = ((data[block + 128 + h * 32 + l] & 0xFF) >> (2 * quarter)) & 3;
                yield half(data, block + 208) * data[block + 192 + j / 16] * ((low | high << 4) - 32);
            }
            default -> throw new IllegalArgumentException(type.toString());
        };
    }

    /** ggml's get_scale_min_k4: the 6-bit scale and min of sub-block j from a K-quant block's 12 bytes at {@code at}. */
    private static int[] scaleMin(byte[] data, int at, int j) {
        int[] s = new int[12];
        for (int i = 0; i < 12; i++) {
            s[i] = data[at + i] & 0xFF;
        }
        if (j < 4) {
            return new int[] {s[j] & 63, s[j + 4] & 63};
        }
        return new int[] {(s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4), (s[j + 4] >> 4) | ((s[j] >> 6) << 4)};
    }

    /**
     * y[t][r] = sum_c W[r][c] x[t][c], with x first rounded as llama.cpp rounds the input for these weights: to
     * Q8_0 for Q4_0 and Q8_0, to Q8_K for the K-quants.
     */
    static float[] matmul(GgmlType type, byte[] w, int rows, int cols, float[] x, int tokens) {
        x = switch (type) {
            case Q4_0, Q8_0 -> Q8_0.of(x).values();
            case Q4_K, Q5_K, Q6_K -> Q8_K.of(x).values();
            default -> x;
        };
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

    /**
     * x rounded to Q8_0 as llama.cpp's vectorized quantize_row_q8_0 (and the CPU backend): per block of 32, in
     * float, d = amax / 127, q = round-half-even(x / d), scale fp16(d).
     */
    record Q8_0(byte[] quants, float[] scales) {
        static Q8_0 of(float[] x) {
            byte[] quants = new byte[x.length];
            float[] scales = new float[x.length / 32];
            for (int b = 0; b < scales.length; b++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(x[b * 32 + j]));
                }
                float d = amax / 127;
                float id = d == 0 ? 0 : 1 / d;
                scales[b] = Float.float16ToFloat(Float.floatToFloat16(d));
                for (int j = 0; j < 32; j++) {
                    quants[b * 32 + j] = (byte) Math.rint(x[b * 32 + j] * id);
                }
            }
            return new Q8_0(quants, scales);
        }

        float[] values() {
            float[] values = new float[quants.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = quants[i] * scales[i / 32];
            }
            return values;
        }
    }

    /**
     * x rounded to Q8_K as llama.cpp's quantize_row_q8_K_ref: per block of 256, max = the first value of largest
     * magnitude, iscale = -127 / max, q = min(127, round-half-even(iscale * x)), d = 1 / iscale; and the sums of
     * every 16 quants (its bsums).
     */
    record Q8_K(byte[] quants, float[] scales, short[] sums) {
        static Q8_K of(float[] x) {
            byte[] quants = new byte[x.length];
            float[] scales = new float[x.length / 256];
            short[] sums = new short[x.length / 16];
            for (int b = 0; b < scales.length; b++) {
                float max = 0;
                float amax = 0;
                for (int j = 0; j < 256; j++) {
                    float ax = Math.abs(x[b * 256 + j]);
                    if (ax > amax) {
                        amax = ax;
                        max = x[b * 256 + j];
                    }
                }
                if (amax == 0) {
                    continue;
                }
                float iscale = -127f / max;
                for (int j = 0; j < 256; j++) {
                    int q = Math.min(127, (int) Math.rint(iscale * x[b * 256 + j]));
                    quants[b * 256 + j] = (byte) q;
                    sums[(b * 256 + j) / 16] += (short) q;
                }
                scales[b] = 1 / iscale;
            }
            return new Q8_K(quants, scales, sums);
        }

        float[] values() {
            float[] values = new float[quants.length];
            for (int i = 0; i < values.length; i++) {
                values[i] = quants[i] * scales[i / 256];
            }
            return values;
        }
    }

    /** Each value rounded to fp16 (nearest, ties to even) and back. */
    static float[] roundedToHalf(float[] x) {
        float[] rounded = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            rounded[i] = Float.float16ToFloat(Float.floatToFloat16(x[i]));
        }
        return rounded;
    }

    static short[] toHalfBits(float[] x) {
        short[] bits = new short[x.length];
        for (int i = 0; i < x.length; i++) {
            bits[i] = Float.floatToFloat16(x[i]);
        }
        return bits;
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

    /**
     * RoPE by given angles, in float as the CPU backend turns a head: pair i of token t, (2i, 2i+1) or in NEOX mode
     * (i, i + headDim/2), by the angle whose cos and sin are cos[t][i], sin[t][i].
     */
    static float[] rope(float[] x, float[] cos, float[] sin, int tokens, int heads, int headDim, boolean neox) {
        float[] out = x.clone();
        int pairs = headDim / 2;
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < pairs; i++) {
                    int first = (t * heads + h) * headDim + (neox ? i : 2 * i);
                    int second = neox ? first + pairs : first + 1;
                    float c = cos[t * pairs + i];
                    float s = sin[t * pairs + i];
                    out[first] = x[first] * c - x[second] * s;
                    out[second] = x[first] * s + x[second] * c;
                }
            }
        }
        return out;
    }

    /**
     * RoPE from its definition, in double: pair i of the token at position p turns by
     * theta = p · scale · base^(-2i/headDim) / factors[i] (factors null: 1), pairs as in {@link #rope}.
     */
    static float[] rope(float[] x, int tokens, int heads, int headDim, int startPos, double base, double scale,
                        float[] factors, boolean neox) {
        int pairs = headDim / 2;
        float[] cos = new float[tokens * pairs];
        float[] sin = new float[tokens * pairs];
        double[] rotated = new double[x.length];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < pairs; i++) {
                    double theta = (startPos + t) * scale * Math.pow(base, -2.0 * i / headDim)
                            / (factors == null ? 1 : factors[i]);
                    int first = (t * heads + h) * headDim + (neox ? i : 2 * i);
                    int second = neox ? first + pairs : first + 1;
                    rotated[first] = x[first] * Math.cos(theta) - x[second] * Math.sin(theta);
                    rotated[second] = x[first] * Math.sin(theta) + x[second] * Math.cos(theta);
                }
            }
        }
        float[] out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) rotated[i];
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
     * 0..startPos + t of kv head h / (heads / kvHeads), scores scaled by {@code scale}; with a window (0: none)
     * only the last {@code window} of those positions.
     */
    static float[] attention(float[] q, float[] k, float[] v, int tokens, int heads, int kvHeads, int headDim,
                             int startPos, double scale, int window) {
        float[] out = new float[tokens * heads * headDim];
        for (int t = 0; t < tokens; t++) {
            for (int h = 0; h < heads; h++) {
                int kvHead = h / (heads / kvHeads);
                int len = startPos + t + 1;
                int from = window > 0 ? Math.max(0, len - window) : 0;
                float[] scores = new float[len - from];
                for (int j = from; j < len; j++) {
                    double dot = 0;
                    for (int i = 0; i < headDim; i++) {
                        dot += (double) q[(t * heads + h) * headDim + i] * k[(j * kvHeads + kvHead) * headDim + i];
                    }
                    scores[j - from] = (float) (dot * scale);
                }
                softmax(scores, 0, scores.length);
                for (int i = 0; i < headDim; i++) {
                    double sum = 0;
                    for (int j = from; j < len; j++) {
                        sum += scores[j - from] * (double) v[(j * kvHeads + kvHead) * headDim + i];
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

    /**
     * gate[i] = gelu(gate[i]) * up[i] as ggml's CPU backend (and tinyedge's) computes it: 0 at or below -10, the input
     * at or above 10, between them GELU's tanh form in float of the input rounded to fp16, rounded to fp16 itself.
     */
    static float[] geglu(float[] gate, float[] up) {
        float[] out = new float[gate.length];
        for (int i = 0; i < gate.length; i++) {
            float g = gate[i];
            float gelu;
            if (g <= -10f) {
                gelu = 0f;
            } else if (g >= 10f) {
                gelu = g;
            } else {
                float x = Float.float16ToFloat(Float.floatToFloat16(g));
                float tanh = (float) Math.tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x));
                gelu = Float.float16ToFloat(Float.floatToFloat16(0.5f * x * (1.0f + tanh)));
            }
            out[i] = gelu * up[i];
        }
        return out;
    }

    private static double half(byte[] data, int at) {
        return Float.float16ToFloat((short) int16(data, at));
    }

    private static int int16(byte[] data, int at) {
        return (data[at] & 0xFF) | (data[at + 1] & 0xFF) << 8;
    }

    private static int int32(byte[] data, int at) {
        return int16(data, at) | int16(data, at + 2) << 16;
    }
}
