package dev.tinyedge.model;

import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.kernels.KernelProvider;
import dev.tinyedge.kernels.MatrixKernel;
import dev.tinyedge.kernels.ProductInput;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.Simd;

import java.util.Arrays;

/**
 * The Llama forward pass on the CPU, as llama.cpp runs GGUF llama models: RMSNorm, rotary embeddings in
 * "normal" mode (adjacent pairs), grouped-query attention with a causal mask over an f32 KV cache, SwiGLU
 * feed-forward, residual adds, final norm and output head.
 *
 * <p>Tokens are processed in batches: every matrix product takes the whole batch at once, so a weight row
 * is read once per batch (prefill) rather than once per token. Matrix rows and attention heads are split
 * across the worker pool. All buffers are allocated here, once; a forward pass allocates nothing.
 * Not thread-safe: one forward pass at a time.
 */
public final class ForwardPass {
    private static final int MAX_BATCH = 64;
    /** Elements of SwiGLU per work item: a decode token's 5632 split in a few, a batch's in many. */
    private static final int GATE_CHUNK = 512;
    /**
     * Rows that threads take of a product as one unit: the native kernels run eight rows at a time in the
     * vector lanes and a thread's rows past a multiple of eight one by one, several times slower.
     */
    private static final int ROW_GROUP = 8;

    private final ModelWeights model;
    private final ModelConfig c;
    private final WorkerPool pool;
    private final int contextLength;
    private final int maxBatch;
    /** Per layer, position p's keys (values) at [p * kvDim, (p+1) * kvDim), heads one after another. */
    private final float[][] keyCache;
    private final float[][] valueCache;
    /** Activations of a batch: token b's vector starts at b * (its width). */
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] attention;
    private final float[] gate;
    private final float[] up;
    private final float[] logits;
    /** base^(-2i/headDim) for each rotated pair i of a head. */
    private final double[] ropeFrequencies;
    /** Per worker thread: decoded weight rows, and attention scores over the positions. */
    private final float[][] rowScratch;
    private final float[][] scores;

    // The job on the pool, set by the caller before each pool.run (which publishes it to the workers):
    // up to three matrix products of the same input, run as one range of rows (one wait instead of three).
    private final FloatTensor[] productWeights = new FloatTensor[3];
    private final MatrixKernel[] productKernels = new MatrixKernel[3];
    private final float[][] productOuts = new float[3][];
    private final int[] productOutOffsets = new int[3];
    private final int[] productRows = new int[3];
    private int products;
    private int productRowsTotal;
    private final KernelProvider kernels;
    private final ProductInput productInput;
    private int attentionLayer;
    private int attentionStart;
    private int attentionBatch;
    private final WorkerPool.RangeTask batchProductTask = this::batchProductRows;
    private final WorkerPool.RangeTask vectorProductTask = this::vectorProductRows;
    private final WorkerPool.RangeTask prepareTask = this::prepareInput;
    private final WorkerPool.RangeTask normTask = this::normalizeVectors;
    private final WorkerPool.RangeTask gateTask = this::gateChunks;
    private FloatTensor normWeight;
    private int gatedElements;
    private final WorkerPool.RangeTask attentionTask = this::attentionHeads;

    public ForwardPass(ModelWeights model, int contextLength, WorkerPool pool) {
        this.model = model;
        this.c = model.config();
        if (contextLength < 1 || contextLength > c.contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " is outside 1.." + c.contextLength()
                    + " (the model's context length)");
        }
        this.pool = pool;
        this.contextLength = contextLength;
        this.maxBatch = Math.min(MAX_BATCH, contextLength);
        keyCache = new float[c.layers()][contextLength * c.kvDim()];
        valueCache = new float[c.layers()][contextLength * c.kvDim()];
        x = new float[maxBatch * c.dim()];
        xb = new float[maxBatch * c.dim()];
        q = new float[maxBatch * c.dim()];
        attention = new float[maxBatch * c.dim()];
        gate = new float[maxBatch * c.ffnDim()];
        up = new float[maxBatch * c.ffnDim()];
        logits = new float[c.vocabSize()];
        ropeFrequencies = ropeFrequencies(c.headDim(), c.ropeBase());
        kernels = KernelProvider.get();
        productInput = kernels.newInput(maxBatch, Math.max(c.dim(), c.ffnDim()));
        rowScratch = new float[pool.threads()][kernels.scratchSize(Math.max(c.dim(), c.ffnDim()))];
        scores = new float[pool.threads()][contextLength];
    }

    public int contextLength() {
        return contextLength;
    }

    /** Who computes the matrix products. */
    public KernelProvider kernels() {
        return kernels;
    }

    /**
     * Evaluates tokens[0..count) at positions startPos.. and returns the logits of the last one (this
     * buffer is overwritten by the next call). Cache entries below startPos are kept and attended to.
     */
    public float[] forward(int[] tokens, int count, int startPos) {
        if (count < 1 || count > tokens.length || startPos < 0 || startPos + count > contextLength) {
            throw new IllegalArgumentException("cannot evaluate " + count + " tokens at position " + startPos
                    + " with a context of " + contextLength);
        }
        for (int i = 0; i < count; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary 0.." + (c.vocabSize() - 1));
            }
        }
        int batch = 0;
        for (int done = 0; done < count; done += batch) {
            batch = Math.min(maxBatch, count - done);
            forwardBatch(tokens, done, batch, startPos + done);
        }
        int dim = c.dim();
        rmsNorm(xb, 0, x, (batch - 1) * dim, model.outputNorm(), dim, c.rmsEps());
        product(0, model.output(), logits, 0, c.vocabSize());
        runProducts(1, xb, 1, dim);
        return logits;
    }

    private void forwardBatch(int[] tokens, int from, int batch, int start) {
        int dim = c.dim();
        int kvDim = c.kvDim();
        for (int b = 0; b < batch; b++) {
            model.tokenEmbedding().dequantize((long) tokens[from + b] * dim, x, b * dim, dim);
        }
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer w = model.layers().get(l);

            normalize(w.attentionNorm(), batch);
            product(0, w.query(), q, 0, dim);
            product(1, w.key(), keyCache[l], start * kvDim, kvDim);
            product(2, w.value(), valueCache[l], start * kvDim, kvDim);
            runProducts(3, xb, batch, dim);
            rope(q, 0, dim, batch, start, c.heads(), c.headDim(), ropeFrequencies);
            rope(keyCache[l], start * kvDim, kvDim, batch, start, c.kvHeads(), c.headDim(), ropeFrequencies);
            attentionLayer = l;
            attentionStart = start;
            attentionBatch = batch;
            pool.run(batch * c.heads(), attentionTask);
            product(0, w.attentionOutput(), xb, 0, dim);
            runProducts(1, attention, batch, dim);
            add(x, xb, batch * dim);

            normalize(w.ffnNorm(), batch);
            product(0, w.gate(), gate, 0, c.ffnDim());
            product(1, w.up(), up, 0, c.ffnDim());
            runProducts(2, xb, batch, dim);
            gatedElements = batch * c.ffnDim();
            pool.run((gatedElements + GATE_CHUNK - 1) / GATE_CHUNK, gateTask);
            product(0, w.down(), xb, 0, dim);
            runProducts(1, gate, batch, c.ffnDim());
            add(x, xb, batch * dim);
        }
    }

    /** out = in / sqrt(mean(in²) + eps) · weight, over one vector of {@code dim} elements. */
    static void rmsNorm(float[] out, int outOffset, float[] in, int inOffset, FloatTensor weight, int dim, float eps) {
        double sumOfSquares = 0;
        for (int i = 0; i < dim; i++) {
            sumOfSquares += in[inOffset + i] * in[inOffset + i];
        }
        float scale = (float) (1.0 / Math.sqrt(sumOfSquares / dim + eps));
        for (int i = 0; i < dim; i++) {
            out[outOffset + i] = in[inOffset + i] * scale * weight.getFloat(i);
        }
    }

    /** base^(-2i/headDim) for each rotated pair i of a head. */
    static double[] ropeFrequencies(int headDim, float base) {
        double[] frequencies = new double[headDim / 2];
        for (int i = 0; i < frequencies.length; i++) {
            frequencies[i] = Math.pow(base, -2.0 * i / headDim);
        }
        return frequencies;
    }

    /**
     * Rotates each adjacent pair (2i, 2i+1) of every head by pos · frequencies[i], for the batch's vectors
     * v[offset + b*stride ..] (heads of headDim one after another) at positions start + b.
     */
    static void rope(float[] v, int offset, int stride, int batch, int start, int heads, int headDim, double[] frequencies) {
        for (int b = 0; b < batch; b++) {
            int pos = start + b;
            for (int i = 0; i < frequencies.length; i++) {
                double theta = pos * frequencies[i];
                float cos = (float) Math.cos(theta);
                float sin = (float) Math.sin(theta);
                for (int h = 0; h < heads; h++) {
                    int at = offset + b * stride + h * headDim + 2 * i;
                    float v0 = v[at];
                    float v1 = v[at + 1];
                    v[at] = v0 * cos - v1 * sin;
                    v[at + 1] = v0 * sin + v1 * cos;
                }
            }
        }
    }

    /**
     * One query head over cached positions [0, positions): softmax(q·k_t / sqrt(headDim)) weighted sum of
     * v_t into out[outAt..]. Position t's head starts at t * kvDim + kvAt in keys and values.
     */
    static void attendHead(float[] q, int qAt, float[] keys, float[] values, int kvAt, int kvDim, int positions,
                           int headDim, float[] scores, float[] out, int outAt) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        float max = Float.NEGATIVE_INFINITY;
        for (int t = 0; t < positions; t++) {
            scores[t] = Simd.dot(q, qAt, keys, t * kvDim + kvAt, headDim) * scale;
            max = Math.max(max, scores[t]);
        }
        float sum = Simd.expShifted(scores, 0, positions, max);
        Arrays.fill(out, outAt, outAt + headDim, 0f);
        for (int t = 0; t < positions; t++) {
            Simd.axpy(scores[t] / sum, values, t * kvDim + kvAt, out, outAt, headDim);
        }
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [from, to): SwiGLU's gating, before the down projection. */
    static void swiglu(float[] gate, float[] up, int from, int to) {
        Simd.siluGate(gate, up, from, to);
    }

    /**
     * Attention for items h * batch + b: query head h of token b over positions 0..start+b. Head-major, so
     * that every thread's share of a batch holds early and late tokens alike (a late token attends to more
     * positions: token-major, the last thread got the costliest half of a prompt).
     */
    private void attentionHeads(int first, int end, int worker) {
        int headDim = c.headDim();
        int group = c.heads() / c.kvHeads();
        for (int item = first; item < end; item++) {
            int h = item / attentionBatch;
            int b = item % attentionBatch;
            int at = b * c.dim() + h * headDim;
            attendHead(q, at, keyCache[attentionLayer], valueCache[attentionLayer], (h / group) * headDim, c.kvDim(),
                    attentionStart + b + 1, headDim, scores[worker], attention, at);
        }
    }

    /** Sets product i of the next {@link #runProducts}: out[outOffset..] = weight · input, rows outputs per token. */
    private void product(int i, FloatTensor weight, float[] out, int outOffset, int rows) {
        productWeights[i] = weight;
        productKernels[i] = kernels.kernel(weight.type());
        productOuts[i] = out;
        productOutOffsets[i] = outOffset;
        productRows[i] = rows;
    }

    /** Runs products [0, count) of the batch's input vectors in[b*cols..], their rows split across the pool. */
    private void runProducts(int count, float[] in, int batch, int cols) {
        products = count;
        productInput.begin(in, batch, cols, productKernels, count);
        if (batch > 1) {
            pool.run(productInput.chunks(), prepareTask);
        } else {
            productInput.prepare(0, productInput.chunks()); // a few thousand elements: less than a hand-over
        }
        int rows = 0;
        for (int i = 0; i < count; i++) {
            rows += productRows[i];
        }
        productRowsTotal = rows;
        pool.run((rows + ROW_GROUP - 1) / ROW_GROUP, batch > 1 ? batchProductTask : vectorProductTask);
    }

    /** xb = RMSNorm(x) · weight for each of the batch's vectors, split across the pool (decode: one, on this thread). */
    private void normalize(FloatTensor weight, int batch) {
        normWeight = weight;
        pool.run(batch, normTask);
    }

    private void normalizeVectors(int start, int end, int worker) {
        for (int b = start; b < end; b++) {
            rmsNorm(xb, b * c.dim(), x, b * c.dim(), normWeight, c.dim(), c.rmsEps());
        }
    }

    /** SwiGLU over chunks [start, end) of GATE_CHUNK elements: an exponential each, which in one thread would hold up the pool. */
    private void gateChunks(int start, int end, int worker) {
        swiglu(gate, up, start * GATE_CHUNK, Math.min(gatedElements, end * GATE_CHUNK));
    }

    private void prepareInput(int start, int end, int worker) {
        productInput.prepare(start, end);
    }

    /**
     * Rows of groups [startGroup, endGroup) of the products laid end to end, for a batch. The single vector's
     * products are a task of their own ({@link #vectorProductRows}), so that the JIT compiles each kernel
     * family into its own method (see {@link dev.tinyedge.kernels.JavaKernels}).
     */
    private void batchProductRows(int startGroup, int endGroup, int worker) {
        int start = startGroup * ROW_GROUP;
        int end = Math.min(endGroup * ROW_GROUP, productRowsTotal);
        int first = 0;
        for (int i = 0; i < products; i++) {
            int from = Math.max(start, first) - first;
            int to = Math.min(end, first + productRows[i]) - first;
            if (from < to) {
                productKernels[i].batchRows(productWeights[i], productInput, productOuts[i], productOutOffsets[i],
                        productRows[i], from, to, rowScratch[worker]);
            }
            first += productRows[i];
        }
    }

    /** Rows of groups [startGroup, endGroup) of the products laid end to end, for a single vector (decode). */
    private void vectorProductRows(int startGroup, int endGroup, int worker) {
        int start = startGroup * ROW_GROUP;
        int end = Math.min(endGroup * ROW_GROUP, productRowsTotal);
        int first = 0;
        for (int i = 0; i < products; i++) {
            int from = Math.max(start, first) - first;
            int to = Math.min(end, first + productRows[i]) - first;
            if (from < to) {
                productKernels[i].vectorRows(productWeights[i], productInput, productOuts[i], productOutOffsets[i], from, to);
            }
            first += productRows[i];
        }
    }

    private static void add(float[] x, float[] delta, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += delta[i];
        }
    }
}
