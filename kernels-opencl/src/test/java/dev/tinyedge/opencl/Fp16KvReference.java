package dev.tinyedge.opencl;

import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.reference.ScalarForward;

/**
 * The reference forward pass ({@link ScalarForward}'s steps, double precision, one token at a time) with an fp16
 * KV cache: keys and values are rounded to the nearest fp16 as they are cached, as ggml's F16 cache (and the
 * device's) stores them. It stands in for the CPU backend's F16 KV cache until there is one; then the device
 * is compared with that directly.
 */
final class Fp16KvReference {
    private final ModelWeights model;
    private final ModelConfig c;
    private final double[][][] keys;
    private final double[][][] values;

    Fp16KvReference(ModelWeights model, int contextLength) {
        this.model = model;
        this.c = model.config();
        keys = new double[c.layers()][contextLength][];
        values = new double[c.layers()][contextLength][];
    }

    /** The logits of {@code token} at {@code pos}; positions before it must have been evaluated. */
    float[] forward(int token, int pos) {
        int dim = c.dim();
        double[] x = new double[dim];
        for (int i = 0; i < dim; i++) {
            x[i] = model.tokenEmbedding().getFloat((long) token * dim + i);
        }
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer w = model.layers().get(l);
            double[] h = ScalarForward.rmsNorm(x, w.attentionNorm(), c.rmsEps());
            double[] q = ScalarForward.rope(ScalarForward.matVec(w.query(), h, dim), pos, c.headDim(), c.ropeBase());
            keys[l][pos] = toFp16(ScalarForward.rope(ScalarForward.matVec(w.key(), h, c.kvDim()), pos, c.headDim(),
                    c.ropeBase()));
            values[l][pos] = toFp16(ScalarForward.matVec(w.value(), h, c.kvDim()));
            double[] attended = new double[dim];
            int group = c.heads() / c.kvHeads();
            for (int head = 0; head < c.heads(); head++) {
                double[] out = ScalarForward.attention(q, head * c.headDim(), keys[l], values[l],
                        (head / group) * c.headDim(), pos + 1, c.headDim());
                System.arraycopy(out, 0, attended, head * c.headDim(), c.headDim());
            }
            add(x, ScalarForward.matVec(w.attentionOutput(), attended, dim));
            add(x, ScalarForward.ffn(w, ScalarForward.rmsNorm(x, w.ffnNorm(), c.rmsEps())));
        }
        double[] logits = ScalarForward.matVec(model.output(),
                ScalarForward.rmsNorm(x, model.outputNorm(), c.rmsEps()), c.vocabSize());
        float[] result = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            result[i] = (float) logits[i];
        }
        return result;
    }

    /** Each value as the float the device computes, rounded to fp16 (nearest, ties to even). */
    private static double[] toFp16(double[] v) {
        double[] rounded = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            rounded[i] = Float.float16ToFloat(Float.floatToFloat16((float) v[i]));
        }
        return rounded;
    }

    private static void add(double[] x, double[] delta) {
        for (int i = 0; i < x.length; i++) {
            x[i] += delta[i];
        }
    }
}
