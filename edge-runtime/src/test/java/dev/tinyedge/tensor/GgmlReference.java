package dev.tinyedge.tensor;

/**
 * Plain scalar dequantizers written from ggml's block layouts (ggml-common.h) and its dequantize_row_*
 * loops (ggml-quants.c), one block at a time over bytes, independent of the code under test.
 */
final class GgmlReference {
    private GgmlReference() {
    }

    static float[] dequantize(GgmlType type, byte[] bytes) {
        int blocks = bytes.length / type.typeSize;
        float[] y = new float[blocks * type.blockSize];
        for (int i = 0; i < blocks; i++) {
            int b = i * type.typeSize;
            int o = i * type.blockSize;
            switch (type) {
                case Q4_1 -> q4_1(bytes, b, y, o);
                case Q5_0 -> q5_0(bytes, b, y, o);
                case Q5_1 -> q5_1(bytes, b, y, o);
                case Q4_K -> q4_K(bytes, b, y, o);
                case Q5_K -> q5_K(bytes, b, y, o);
                case Q6_K -> q6_K(bytes, b, y, o);
                case BF16 -> y[o] = Float.intBitsToFloat((u8(bytes, b) | u8(bytes, b + 1) << 8) << 16);
                default -> throw new IllegalArgumentException(type.toString());
            }
        }
        return y;
    }

    private static void q4_1(byte[] x, int b, float[] y, int o) {
        float d = half(x, b);
        float m = half(x, b + 2);
        for (int j = 0; j < 16; j++) {
            int q = u8(x, b + 4 + j);
            y[o + j] = (q & 0x0F) * d + m;
            y[o + j + 16] = (q >> 4) * d + m;
        }
    }

    private static void q5_0(byte[] x, int b, float[] y, int o) {
        float d = half(x, b);
        int qh = u32(x, b + 2);
        for (int j = 0; j < 16; j++) {
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int q = u8(x, b + 6 + j);
            y[o + j] = (((q & 0x0F) | xh0) - 16) * d;
            y[o + j + 16] = (((q >> 4) | xh1) - 16) * d;
        }
    }

    private static void q5_1(byte[] x, int b, float[] y, int o) {
        float d = half(x, b);
        float m = half(x, b + 2);
        int qh = u32(x, b + 4);
        for (int j = 0; j < 16; j++) {
            int xh0 = ((qh >>> j) << 4) & 0x10;
            int xh1 = (qh >>> (j + 12)) & 0x10;
            int q = u8(x, b + 8 + j);
            y[o + j] = ((q & 0x0F) | xh0) * d + m;
            y[o + j + 16] = ((q >> 4) | xh1) * d + m;
        }
    }

    /** get_scale_min_k4: {scale, min} of sub-block j from the 12 packed bytes at s. */
    private static int[] scaleMin(int j, byte[] x, int s) {
        if (j < 4) {
            return new int[] {u8(x, s + j) & 63, u8(x, s + j + 4) & 63};
        }
        return new int[] {
                (u8(x, s + j + 4) & 0xF) | ((u8(x, s + j - 4) >> 6) << 4),
                (u8(x, s + j + 4) >> 4) | ((u8(x, s + j) >> 6) << 4)};
    }

    private static void q4_K(byte[] x, int b, float[] y, int o) {
        float d = half(x, b);
        float min = half(x, b + 2);
        int q = b + 16;
        int is = 0;
        for (int j = 0; j < 256; j += 64) {
            int[] sm1 = scaleMin(is, x, b + 4);
            int[] sm2 = scaleMin(is + 1, x, b + 4);
            float d1 = d * sm1[0];
            float m1 = min * sm1[1];
            float d2 = d * sm2[0];
            float m2 = min * sm2[1];
            for (int l = 0; l < 32; l++) {
                y[o++] = d1 * (u8(x, q + l) & 0xF) - m1;
            }
            for (int l = 0; l < 32; l++) {
                y[o++] = d2 * (u8(x, q + l) >> 4) - m2;
            }
            q += 32;
            is += 2;
        }
    }

    private static void q5_K(byte[] x, int b, float[] y, int o) {
        float d = half(x, b);
        float min = half(x, b + 2);
        int qh = b + 16;
        int ql = b + 48;
        int is = 0;
        int u1 = 1;
        int u2 = 2;
        for (int j = 0; j < 256; j += 64) {
            int[] sm1 = scaleMin(is, x, b + 4);
            int[] sm2 = scaleMin(is + 1, x, b + 4);
            float d1 = d * sm1[0];
            float m1 = min * sm1[1];
            float d2 = d * sm2[0];
            float m2 = min * sm2[1];
            for (int l = 0; l < 32; l++) {
                y[o++] = d1 * ((u8(x, ql + l) & 0xF) + ((u8(x, qh + l) & u1) != 0 ? 16 : 0)) - m1;
            }
            for (int l = 0; l < 32; l++) {
                y[o++] = d2 * ((u8(x, ql + l) >> 4) + ((u8(x, qh + l) & u2) != 0 ? 16 : 0)) - m2;
            }
            ql += 32;
            is += 2;
            u1 <<= 2;
            u2 <<= 2;
        }
    }

    private static void q6_K(byte[] x, int b, float[] y, int o) {
        float d = half(x, b + 208);
        int ql = b;
        int qh = b + 128;
        int sc = b + 192;
        for (int n = 0; n < 256; n += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = ((u8(x, ql + l) & 0xF) | ((u8(x, qh + l) & 3) << 4)) - 32;
                int q2 = ((u8(x, ql + l + 32) & 0xF) | (((u8(x, qh + l) >> 2) & 3) << 4)) - 32;
                int q3 = ((u8(x, ql + l) >> 4) | (((u8(x, qh + l) >> 4) & 3) << 4)) - 32;
                int q4 = ((u8(x, ql + l + 32) >> 4) | (((u8(x, qh + l) >> 6) & 3) << 4)) - 32;
                y[o + l] = d * x[sc + is] * q1;
                y[o + l + 32] = d * x[sc + is + 2] * q2;
                y[o + l + 64] = d * x[sc + is + 4] * q3;
                y[o + l + 96] = d * x[sc + is + 6] * q4;
            }
            o += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }

    static float half(byte[] x, int at) {
        return Float.float16ToFloat((short) (u8(x, at) | u8(x, at + 1) << 8));
    }

    private static int u8(byte[] x, int at) {
        return x[at] & 0xFF;
    }

    private static int u32(byte[] x, int at) {
        return u8(x, at) | u8(x, at + 1) << 8 | u8(x, at + 2) << 16 | u8(x, at + 3) << 24;
    }
}
