package dev.tinyedge.reference;

import dev.tinyedge.model.Features;
import dev.tinyedge.model.Features.Activation;
import dev.tinyedge.model.Features.RopeStyle;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

/**
 * A deliberately plain forward pass to check the fast one against: one token at a time, double precision
 * everywhere, every weight read with {@link FloatTensor#getFloat}, no vectors, no threads, no buffers shared
 * between steps, every position kept. It follows the textbook definitions of each family's block (llama.cpp's
 * graphs in src/models/*.cpp), not the engine's code; where llama.cpp rounds on purpose (Q8_0 inputs of
 * quantized products, GELU through an fp16 table) it rounds the same way.
 */
public final class ScalarForward {
    private final ModelWeights model;
    private final ModelConfig c;
    /** keys[layer][position][kvDim], likewise values. */
    private final double[][][] keys;
    private final double[][][] values;

    public ScalarForward(ModelWeights model, int contextLength) {
        this.model = model;
        this.c = model.config();
        keys = new double[c.layers()][contextLength][];
        values = new double[c.layers()][contextLength][];
    }

    /** Evaluates {@code token} at {@code pos} (positions before it must have been evaluated) and returns the logits. */
    public float[] forward(int token, int pos) {
        int dim = c.dim();
        int headDim = c.headDim();
        Features f = c.features();
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = model.tokenEmbedding().getFloat((long) token * dim + i) * (f.scaledEmbedding() ? Math.sqrt(dim) : 1);
        }
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer w = model.layers().get(l);
            double[] h = rmsNorm(x, w.attentionNorm(), c.rmsEps());
            double[] q = addBias(matVec(w.query(), h, c.qDim()), w.queryBias());
            double[] k = addBias(matVec(w.key(), h, c.kvDim()), w.keyBias());
            if (f.qkNorm()) {
                q = headNorm(q, w.queryNorm(), headDim, c.rmsEps());
                k = headNorm(k, w.keyNorm(), headDim, c.rmsEps());
            }
            double base = c.ropeBase(l);
            double scale = c.ropeScale(l);
            q = rope(q, pos, headDim, base, scale, model.ropeFactors(), f.rope());
            keys[l][pos] = rope(k, pos, headDim, base, scale, model.ropeFactors(), f.rope());
            values[l][pos] = addBias(matVec(w.value(), h, c.kvDim()), w.valueBias());
            int from = c.isLocal(l) ? Math.max(0, pos - c.window().size() + 1) : 0;
            double[] attended = new double[c.qDim()];
            int group = c.heads() / c.kvHeads();
            for (int head = 0; head < c.heads(); head++) {
                double[] out = attention(q, head * headDim, keys[l], values[l], (head / group) * headDim, from,
                        pos + 1, headDim, c.attentionScale());
                System.arraycopy(out, 0, attended, head * headDim, headDim);
            }
            double[] attentionOut = matVec(w.attentionOutput(), attended, dim);
            add(x, f.postNorms() ? rmsNorm(attentionOut, w.postAttentionNorm(), c.rmsEps()) : attentionOut);
            double[] ffnOut = ffn(w, rmsNorm(x, w.ffnNorm(), c.rmsEps()), f.activation());
            add(x, f.postNorms() ? rmsNorm(ffnOut, w.postFfnNorm(), c.rmsEps()) : ffnOut);
        }
        double[] logits = matVec(model.output(), rmsNorm(x, model.outputNorm(), c.rmsEps()), c.vocabSize());
        float[] result = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            result[i] = (float) logits[i];
        }
        return result;
    }

    /**
     * y = W x for a [in, rows] weight: y[r] = Σ_i W[r·in + i] x[i]. For Q4_0 and Q8_0 weights x is first
     * rounded to Q8_0, as llama.cpp does (their vec_dot_type).
     */
    public static double[] matVec(FloatTensor w, double[] x, int rows) {
        if (w.type() == GgmlType.Q4_0 || w.type() == GgmlType.Q8_0) {
            x = roundToQ8_0(x);
        }
        double[] y = new double[rows];
        for (int r = 0; r < rows; r++) {
            double sum = 0;
            for (int i = 0; i < x.length; i++) {
                sum += w.getFloat((long) r * x.length + i) * x[i];
            }
            y[r] = sum;
        }
        return y;
    }

    public static double[] rmsNorm(double[] x, FloatTensor weight, double eps) {
        double meanSquare = 0;
        for (double v : x) {
            meanSquare += v * v / x.length;
        }
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] / Math.sqrt(meanSquare + eps) * weight.getFloat(i);
        }
        return y;
    }

    /** x + bias, or x itself without a bias. */
    public static double[] addBias(double[] x, FloatTensor bias) {
        if (bias == null) {
            return x;
        }
        double[] y = x.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] += bias.getFloat(i);
        }
        return y;
    }

    /** RMSNorm of each head of {@code headDim} on its own, with the same weight for every head. */
    public static double[] headNorm(double[] x, FloatTensor weight, int headDim, double eps) {
        double[] y = new double[x.length];
        for (int at = 0; at < x.length; at += headDim) {
            double[] head = rmsNorm(java.util.Arrays.copyOfRange(x, at, at + headDim), weight, eps);
            System.arraycopy(head, 0, y, at, headDim);
        }
        return y;
    }

    /**
     * RoPE: in each head, pair i turns by pos · base^(-2i/headDim) · scale / factor_i (factors null: 1). Pair i is
     * elements (2i, 2i+1) with {@link RopeStyle#ADJACENT_PAIRS}, (i, i + headDim/2) with NEOX. Returns a new vector.
     */
    public static double[] rope(double[] v, int pos, int headDim, double base, double scale, FloatTensor factors,
                                RopeStyle style) {
        double[] y = v.clone();
        for (int head = 0; head < v.length / headDim; head++) {
            for (int i = 0; i < headDim / 2; i++) {
                double theta = pos * Math.pow(base, -2.0 * i / headDim) * scale / (factors == null ? 1 : factors.getFloat(i));
                int a = head * headDim + (style == RopeStyle.NEOX ? i : 2 * i);
                int b = a + (style == RopeStyle.NEOX ? headDim / 2 : 1);
                y[a] = v[a] * Math.cos(theta) - v[b] * Math.sin(theta);
                y[b] = v[a] * Math.sin(theta) + v[b] * Math.cos(theta);
            }
        }
        return y;
    }

    /** RoPE of the Llama-2 block: adjacent pairs, no factors, no scaling. */
    public static double[] rope(double[] v, int pos, int headDim, double base) {
        return rope(v, pos, headDim, base, 1, null, RopeStyle.ADJACENT_PAIRS);
    }

    /** Attention of the Llama-2 block: over positions [0, positions), scaled by 1/√headDim. */
    public static double[] attention(double[] q, int qAt, double[][] keys, double[][] values, int kvAt, int positions,
                                     int headDim) {
        return attention(q, qAt, keys, values, kvAt, 0, positions, headDim, 1 / Math.sqrt(headDim));
    }

    /**
     * Attention of q[qAt, qAt+headDim) over the positions [from, to) of one KV head: softmax of scale · q·k_t, the
     * weighted sum of v_t. A local layer's window starts {@code from} after 0.
     */
    public static double[] attention(double[] q, int qAt, double[][] keys, double[][] values, int kvAt, int from, int to,
                                     int headDim, double scale) {
        double[] weights = new double[to];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = from; t < to; t++) {
            double score = 0;
            for (int i = 0; i < headDim; i++) {
                score += q[qAt + i] * keys[t][kvAt + i];
            }
            weights[t] = score * scale;
            max = Math.max(max, weights[t]);
        }
        double sum = 0;
        for (int t = from; t < to; t++) {
            weights[t] = Math.exp(weights[t] - max);
            sum += weights[t];
        }
        double[] out = new double[headDim];
        for (int t = from; t < to; t++) {
            for (int i = 0; i < headDim; i++) {
                out[i] += weights[t] / sum * values[t][kvAt + i];
            }
        }
        return out;
    }

    /** The feed-forward of the Llama-2 block: SwiGLU. */
    public static double[] ffn(ModelWeights.Layer w, double[] x) {
        return ffn(w, x, Activation.SILU);
    }

    /** The gated feed-forward: down(act(gate x) · up x), with SiLU or GELU as the activation. */
    public static double[] ffn(ModelWeights.Layer w, double[] x, Activation activation) {
        int hidden = (int) (w.gate().size() / x.length);
        double[] gate = matVec(w.gate(), x, hidden);
        double[] up = matVec(w.up(), x, hidden);
        double[] h = new double[hidden];
        for (int i = 0; i < hidden; i++) {
            h[i] = (activation == Activation.SILU ? silu(gate[i]) : geluAsGgml(gate[i])) * up[i];
        }
        return matVec(w.down(), h, x.length);
    }

    public static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** GELU, tanh form: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))). */
    public static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /**
     * GELU as ggml's CPU backend computes it for f32 (GGML_GELU_FP16): 0 at or below -10, x at or above 10, and
     * between them GELU of x rounded to fp16, itself rounded to fp16 (its lookup table).
     */
    public static double geluAsGgml(double x) {
        if (x <= -10) {
            return 0;
        }
        if (x >= 10) {
            return x;
        }
        return toFp16(gelu(toFp16(x)));
    }

    private static double toFp16(double x) {
        return Float.float16ToFloat(Float.floatToFloat16((float) x));
    }

    /**
     * x rounded to Q8_0 as llama.cpp's vectorized quantize_row_q8_0 does (AVX and NEON alike): per block of
     * 32, in float, d = amax / 127, q = round-half-even(x / d), value q * fp16(d).
     */
    public static double[] roundToQ8_0(double[] x) {
        double[] rounded = new double[x.length];
        for (int block = 0; block < x.length; block += 32) {
            float amax = 0;
            for (int i = block; i < block + 32; i++) {
                amax = Math.max(amax, Math.abs((float) x[i]));
            }
            float d = amax / 127;
            float id = d != 0 ? 1 / d : 0;
            float scale = Float.float16ToFloat(Float.floatToFloat16(d));
            for (int i = block; i < block + 32; i++) {
                rounded[i] = Math.rint((float) x[i] * id) * scale;
            }
        }
        return rounded;
    }

    private static void add(double[] x, double[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }
}
