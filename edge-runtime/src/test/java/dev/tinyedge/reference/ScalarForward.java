package dev.tinyedge.reference;

import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

/**
 * A deliberately plain Llama forward pass to check the fast one against: one token at a time, double
 * precision everywhere, every weight read with {@link FloatTensor#getFloat}, no vectors, no threads, no
 * buffers shared between steps. It follows the textbook definitions (llama.cpp's GGUF llama graph), not
 * the engine's code.
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
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = model.tokenEmbedding().getFloat((long) token * dim + i);
        }
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer w = model.layers().get(l);
            double[] h = rmsNorm(x, w.attentionNorm(), c.rmsEps());
            double[] q = rope(matVec(w.query(), h, dim), pos, c.headDim(), c.ropeBase());
            keys[l][pos] = rope(matVec(w.key(), h, c.kvDim()), pos, c.headDim(), c.ropeBase());
            values[l][pos] = matVec(w.value(), h, c.kvDim());
            double[] attended = new double[dim];
            int group = c.heads() / c.kvHeads();
            for (int head = 0; head < c.heads(); head++) {
                double[] out = attention(q, head * c.headDim(), keys[l], values[l], (head / group) * c.headDim(),
                        pos + 1, c.headDim());
                System.arraycopy(out, 0, attended, head * c.headDim(), c.headDim());
            }
            add(x, matVec(w.attentionOutput(), attended, dim));
            add(x, ffn(w, rmsNorm(x, w.ffnNorm(), c.rmsEps())));
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

    /** RoPE, normal mode: each head's pairs (2i, 2i+1) turn by pos · base^(-2i/headDim). Returns a new vector. */
    public static double[] rope(double[] v, int pos, int headDim, double base) {
        double[] y = v.clone();
        for (int head = 0; head < v.length / headDim; head++) {
            for (int i = 0; i < headDim / 2; i++) {
                double theta = pos * Math.pow(base, -2.0 * i / headDim);
                int a = head * headDim + 2 * i;
                y[a] = v[a] * Math.cos(theta) - v[a + 1] * Math.sin(theta);
                y[a + 1] = v[a] * Math.sin(theta) + v[a + 1] * Math.cos(theta);
            }
        }
        return y;
    }

    /** Scaled dot-product attention of q[qAt, qAt+headDim) over positions [0, positions) of one KV head. */
    public static double[] attention(double[] q, int qAt, double[][] keys, double[][] values, int kvAt, int positions,
                                     int headDim) {
        double[] weights = new double[positions];
        double max = Double.NEGATIVE_INFINITY;
        for (int t = 0; t < positions; t++) {
            double score = 0;
            for (int i = 0; i < headDim; i++) {
                score += q[qAt + i] * keys[t][kvAt + i];
            }
            weights[t] = score / Math.sqrt(headDim);
            max = Math.max(max, weights[t]);
        }
        double sum = 0;
        for (int t = 0; t < positions; t++) {
            weights[t] = Math.exp(weights[t] - max);
            sum += weights[t];
        }
        double[] out = new double[headDim];
        for (int t = 0; t < positions; t++) {
            for (int i = 0; i < headDim; i++) {
                out[i] += weights[t] / sum * values[t][kvAt + i];
            }
        }
        return out;
    }

    /** SwiGLU: down(silu(gate x) · up x). */
    public static double[] ffn(ModelWeights.Layer w, double[] x) {
        int hidden = (int) (w.gate().size() / x.length);
        double[] gate = matVec(w.gate(), x, hidden);
        double[] up = matVec(w.up(), x, hidden);
        double[] h = new double[hidden];
        for (int i = 0; i < hidden; i++) {
            h[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
        }
        return matVec(w.down(), h, x.length);
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
