package dev.tinyedge.model;

import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.kernels.KernelProvider;
import dev.tinyedge.kernels.MatrixKernel;
import dev.tinyedge.kernels.ProductInput;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.Simd;

import java.util.Arrays;

/**
 * The forward pass on the CPU, as llama.cpp runs the GGUF architectures it is given (src/models/*.cpp), one pass
 * for all of them, with each family's parts switched on by its {@link Features}: RMSNorm; Q/K/V projections with
 * optional biases; optional per-head RMSNorm of queries and keys; rotary embeddings on adjacent pairs or NEOX
 * halves, with optional per-dimension factors; grouped-query attention with a causal mask over an f32 KV cache,
 * and a sliding window on the local layers of a {@link ModelConfig.SlidingWindow}; optional norms of the
 * attention and feed-forward outputs; SwiGLU or GELU-gated feed-forward; residual adds, final norm and output head.
 *
 * <p>Tokens are processed in batches: every matrix product takes the whole batch at once, so a weight row
 * is read once per batch (prefill) rather than once per token. Matrix rows, attention heads and elementwise work
 * are split across the worker pool. All buffers are allocated here, once; a forward pass allocates nothing.
 * Local layers keep only the positions their window can still see (plus a batch), in a ring.
 * Not thread-safe: one forward pass at a time.
 */
public final class ForwardPass {
    private static final int MAX_BATCH = 64;
    /** Elements of the gated activation per work item: a decode token's 5632 split in a few, a batch's in many. */
    private static final int GATE_CHUNK = 512;
    /**
     * Rows that threads take of a product as one unit: the native kernels run eight rows at a time in the
     * vector lanes and a thread's rows past a multiple of eight one by one, several times slower.
     */
    private static final int ROW_GROUP = 8;

    private final ModelWeights model;
    private final ModelConfig c;
    private final Features features;
    private final WorkerPool pool;
    private final int contextLength;
    private final int maxBatch;
    /**
     * Per layer, the key (value) of position p at slot p % cachedPositions[l], [slot * kvDim, (slot+1) * kvDim),
     * heads one after another. Global layers hold every position; local layers a ring of window + batch - 1.
     */
    private final float[][] keyCache;
    private final float[][] valueCache;
    private final int[] cachedPositions;
    /** Which position each slot of the local layers' ring holds (-1: none yet); null without a ring. */
    private final int[] ringPositions;
    private final int ringLength;
    /** The token evaluated at each position, to rebuild a ring that a rewind finds overwritten. */
    private final int[] history;
    /** Activations of a batch: token b's vector starts at b * (its width). */
    private final float[] x;
    private final float[] xb;
    private final float[] q;
    private final float[] k;
    private final float[] v;
    private final float[] attention;
    private final float[] gate;
    private final float[] up;
    private final float[] logits;
    /** Per RoPE table (global layers, local layers): base and frequency scale; cos and sin of each angle per batch token. */
    private final float[] ropeBases;
    private final float[] ropeScales;
    private final float[] ropeFactors;
    private final float[][] ropeCos;
    private final float[][] ropeSin;
    private final int[] layerRopeTable;
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
    private int layer;
    private int batchStart;
    private int batchSize;
    private final WorkerPool.RangeTask batchProductTask = this::batchProductRows;
    private final WorkerPool.RangeTask vectorProductTask = this::vectorProductRows;
    private final WorkerPool.RangeTask prepareTask = this::prepareInput;
    private final WorkerPool.RangeTask normTask = this::normalizeVectors;
    private final WorkerPool.RangeTask gateTask = this::gateChunks;
    private final WorkerPool.RangeTask headsTask = this::prepareHeads;
    private final WorkerPool.RangeTask attentionTask = this::attentionHeads;
    private FloatTensor normWeight;
    private float[] normIn;
    private float[] normOut;
    private int gatedElements;

    public ForwardPass(ModelWeights model, int contextLength, WorkerPool pool) {
        this.model = model;
        this.c = model.config();
        this.features = c.features();
        if (contextLength < 1 || contextLength > c.contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " is outside 1.." + c.contextLength()
                    + " (the model's context length)");
        }
        this.pool = pool;
        this.contextLength = contextLength;
        this.maxBatch = Math.min(MAX_BATCH, contextLength);
        ringLength = Math.min(contextLength, c.window().size() + maxBatch - 1);
        cachedPositions = new int[c.layers()];
        keyCache = new float[c.layers()][];
        valueCache = new float[c.layers()][];
        for (int l = 0; l < c.layers(); l++) {
            cachedPositions[l] = c.isLocal(l) ? ringLength : contextLength;
            keyCache[l] = new float[cachedPositions[l] * c.kvDim()];
            valueCache[l] = new float[cachedPositions[l] * c.kvDim()];
        }
        ringPositions = ringLength < contextLength ? new int[ringLength] : null;
        if (ringPositions != null) {
            Arrays.fill(ringPositions, -1);
        }
        history = new int[contextLength];
        x = new float[maxBatch * c.dim()];
        xb = new float[maxBatch * c.dim()];
        q = new float[maxBatch * c.qDim()];
        k = new float[maxBatch * c.kvDim()];
        v = new float[maxBatch * c.kvDim()];
        attention = new float[maxBatch * c.qDim()];
        gate = new float[maxBatch * c.ffnDim()];
        up = new float[maxBatch * c.ffnDim()];
        logits = new float[c.vocabSize()];
        layerRopeTable = new int[c.layers()];
        boolean local = c.window().size() > 0;
        ropeBases = local ? new float[] {c.ropeBase(), c.window().ropeBase()} : new float[] {c.ropeBase()};
        ropeScales = local ? new float[] {c.ropeScale(), 1f} : new float[] {c.ropeScale()};
        for (int l = 0; l < c.layers(); l++) {
            layerRopeTable[l] = c.isLocal(l) ? 1 : 0;
        }
        ropeFactors = model.ropeFactors() == null ? null : new float[c.headDim() / 2];
        if (ropeFactors != null) {
            model.ropeFactors().dequantize(0, ropeFactors, 0, ropeFactors.length);
        }
        ropeCos = new float[ropeBases.length][maxBatch * c.headDim() / 2];
        ropeSin = new float[ropeBases.length][maxBatch * c.headDim() / 2];
        int widest = Math.max(Math.max(c.dim(), c.ffnDim()), c.qDim());
        kernels = KernelProvider.get();
        productInput = kernels.newInput(maxBatch, widest);
        rowScratch = new float[pool.threads()][kernels.scratchSize(widest)];
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
        if (!ringHolds(startPos)) {
            // a rewind to a prefix whose window later positions have overwritten: evaluate the prefix again
            forwardBatches(history, startPos, 0);
        }
        System.arraycopy(tokens, 0, history, startPos, count);
        int last = forwardBatches(tokens, count, startPos);
        int dim = c.dim();
        rmsNorm(xb, 0, x, (last - 1) * dim, model.outputNorm(), dim, c.rmsEps());
        product(0, model.output(), logits, 0, c.vocabSize());
        runProducts(1, xb, 1, dim);
        return logits;
    }

    /** Whether the local layers' ring still holds every position below {@code startPos} that it can see. */
    private boolean ringHolds(int startPos) {
        if (ringPositions == null) {
            return true;
        }
        for (int t = Math.max(0, startPos - c.window().size() + 1); t < startPos; t++) {
            if (ringPositions[t % ringLength] != t) {
                return false;
            }
        }
        return true;
    }

    /** Evaluates tokens[0..count) at startPos.. batch by batch; returns the size of the last batch (0 for none). */
    private int forwardBatches(int[] tokens, int count, int startPos) {
        int batch = 0;
        for (int done = 0; done < count; done += batch) {
            batch = Math.min(maxBatch, count - done);
            forwardBatch(tokens, done, batch, startPos + done);
        }
        return batch;
    }

    private void forwardBatch(int[] tokens, int from, int batch, int start) {
        int dim = c.dim();
        float embeddingScale = c.embeddingScale();
        for (int b = 0; b < batch; b++) {
            model.tokenEmbedding().dequantize((long) tokens[from + b] * dim, x, b * dim, dim);
            if (embeddingScale != 1f) {
                for (int i = b * dim; i < (b + 1) * dim; i++) {
                    x[i] *= embeddingScale;
                }
            }
        }
        ropeAngles(batch, start);
        batchStart = start;
        batchSize = batch;
        for (int l = 0; l < c.layers(); l++) {
            ModelWeights.Layer w = model.layers().get(l);
            layer = l;

            normalize(w.attentionNorm(), x, xb, batch);
            product(0, w.query(), q, 0, c.qDim());
            product(1, w.key(), k, 0, c.kvDim());
            product(2, w.value(), v, 0, c.kvDim());
            runProducts(3, xb, batch, dim);
            int heads = batch * (c.heads() + c.kvHeads());
            if (batch > 1) {
                pool.run(heads, headsTask);
            } else {
                prepareHeads(0, heads, 0); // a few heads: less than a hand-over
            }
            pool.run(batch * c.heads(), attentionTask);
            product(0, w.attentionOutput(), xb, 0, dim);
            runProducts(1, attention, batch, c.qDim());
            if (features.postNorms()) {
                normalize(w.postAttentionNorm(), xb, xb, batch);
            }
            add(x, xb, batch * dim);

            normalize(w.ffnNorm(), x, xb, batch);
            product(0, w.gate(), gate, 0, c.ffnDim());
            product(1, w.up(), up, 0, c.ffnDim());
            runProducts(2, xb, batch, dim);
            gatedElements = batch * c.ffnDim();
            pool.run((gatedElements + GATE_CHUNK - 1) / GATE_CHUNK, gateTask);
            product(0, w.down(), xb, 0, dim);
            runProducts(1, gate, batch, c.ffnDim());
            if (features.postNorms()) {
                normalize(w.postFfnNorm(), xb, xb, batch);
            }
            add(x, xb, batch * dim);
        }
        if (ringPositions != null) {
            for (int b = 0; b < batch; b++) {
                ringPositions[(start + b) % ringLength] = start + b;
            }
        }
    }

    /** The cos and sin of every rotation angle of the batch's positions, once per batch for all layers. */
    private void ropeAngles(int batch, int start) {
        int pairs = c.headDim() / 2;
        for (int table = 0; table < ropeBases.length; table++) {
            for (int b = 0; b < batch; b++) {
                ropeAngles(start + b, pairs, ropeBases[table], ropeScales[table], ropeFactors, ropeCos[table],
                        ropeSin[table], b * pairs);
            }
        }
    }

    /** out = in / sqrt(mean(in²) + eps) · weight, over one vector of {@code dim} elements (out may be in). */
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

    /**
     * cos and sin of the angles of position {@code pos} for each of a head's {@code pairs} rotated pairs, at
     * cos[at..], sin[at..]: pair i turns by pos · base^(-2i/headDim) / factors[i] · scale. Computed in float exactly
     * as ggml's rope computes them (ggml_rope_cache_init, rope_yarn: base^(-2/headDim) in float, raised by repeated
     * multiplication), so that both engines turn by the same float angles: a quantized product rounds its input to
     * Q8_0, and an angle one bit apart can round an activation a whole step the other way.
     */
    public static void ropeAngles(int pos, int pairs, float base, float scale, float[] factors, float[] cos, float[] sin, int at) {
        float thetaScale = (float) Math.pow(base, -2.0f / (2 * pairs));
        float theta = pos;
        for (int i = 0; i < pairs; i++) {
            float angle = scale * (factors == null ? theta : theta / factors[i]);
            cos[at + i] = (float) Math.cos(angle);
            sin[at + i] = (float) Math.sin(angle);
            theta *= thetaScale;
        }
    }

    /**
     * Rotates one head v[at, at + headDim) by the angles whose cos and sin are given per pair, from
     * cos[angles..]: pairs (2i, 2i+1) in {@link Features.RopeStyle#ADJACENT_PAIRS}, (i, i + headDim/2) in NEOX.
     */
    static void ropeHead(float[] v, int at, int headDim, Features.RopeStyle style, float[] cos, float[] sin, int angles) {
        int pairs = headDim / 2;
        int step = style == Features.RopeStyle.NEOX ? 1 : 2;
        int partner = style == Features.RopeStyle.NEOX ? pairs : 1;
        for (int i = 0; i < pairs; i++) {
            int a = at + i * step;
            float v0 = v[a];
            float v1 = v[a + partner];
            float co = cos[angles + i];
            float si = sin[angles + i];
            v[a] = v0 * co - v1 * si;
            v[a + partner] = v0 * si + v1 * co;
        }
    }

    /**
     * One query head over the cached positions [from, to): softmax(scale · q·k_t) weighted sum of v_t into
     * out[outAt..]. Position t's head starts at (t % ring) * kvDim + kvAt in keys and values.
     */
    static void attendHead(float[] q, int qAt, float[] keys, float[] values, int kvAt, int kvDim, int from, int to,
                           int ring, int headDim, float scale, float[] scores, float[] out, int outAt) {
        float max = Float.NEGATIVE_INFINITY;
        int first = from % ring;
        for (int t = 0, slot = first; t < to - from; t++, slot = slot + 1 == ring ? 0 : slot + 1) {
            float score = Simd.dot(q, qAt, keys, slot * kvDim + kvAt, headDim) * scale;
            scores[t] = score;
            max = Math.max(max, score);
        }
        float sum = Simd.expShifted(scores, 0, to - from, max);
        Arrays.fill(out, outAt, outAt + headDim, 0f);
        for (int t = 0, slot = first; t < to - from; t++, slot = slot + 1 == ring ? 0 : slot + 1) {
            Simd.axpy(scores[t] / sum, values, slot * kvDim + kvAt, out, outAt, headDim);
        }
    }

    /** gate[i] = silu(gate[i]) · up[i] for i in [from, to): SwiGLU's gating, before the down projection. */
    static void swiglu(float[] gate, float[] up, int from, int to) {
        Simd.siluGate(gate, up, from, to);
    }

    /**
     * gate[i] = gelu(gate[i]) · up[i] for i in [from, to), as ggml's CPU geglu computes it: 0 below -10, the
     * identity above 10, between them GELU's tanh form looked up for the input rounded to fp16 and rounded to fp16
     * itself (ggml_vec_geglu_f32 with GGML_GELU_FP16, which its CPU backend defines).
     */
    static void geglu(float[] gate, float[] up, int from, int to) {
        float[] table = GeluTable.VALUES;
        for (int i = from; i < to; i++) {
            float g = gate[i];
            float gelu = g <= -10f ? 0f : g >= 10f ? g : table[Float.floatToFloat16(g) & 0xffff];
            gate[i] = gelu * up[i];
        }
    }

    /** ggml_table_gelu_f16: for each fp16 value, its GELU (ggml_gelu_f32, in float) rounded to fp16. */
    private static final class GeluTable {
        static final float[] VALUES = new float[1 << 16];

        static {
            for (int bits = 0; bits < VALUES.length; bits++) {
                float x = Float.float16ToFloat((short) bits);
                float gelu = 0.5f * x * (1.0f + (float) Math.tanh(0.79788456080286535587989211986876f * x * (1.0f + 0.044715f * x * x)));
                VALUES[bits] = Float.float16ToFloat(Float.floatToFloat16(gelu));
            }
        }
    }

    /**
     * Items b * (heads + kvHeads) + h of the batch's projections: query head h, or for h >= heads key and value head
     * h - heads. Adds the biases, normalizes queries and keys per head, turns RoPE, and stores keys and values in
     * the layer's cache at their position's slot.
     */
    private void prepareHeads(int first, int end, int worker) {
        ModelWeights.Layer w = model.layers().get(layer);
        int headDim = c.headDim();
        int perToken = c.heads() + c.kvHeads();
        int table = layerRopeTable[layer];
        for (int item = first; item < end; item++) {
            int b = item / perToken;
            int h = item % perToken;
            boolean query = h < c.heads();
            float[] vector = query ? q : k;
            int head = query ? h : h - c.heads();
            int at = b * (query ? c.qDim() : c.kvDim()) + head * headDim;
            addBias(vector, at, query ? w.queryBias() : w.keyBias(), head * headDim, headDim);
            if (features.qkNorm()) {
                rmsNorm(vector, at, vector, at, query ? w.queryNorm() : w.keyNorm(), headDim, c.rmsEps());
            }
            ropeHead(vector, at, headDim, features.rope(), ropeCos[table], ropeSin[table], b * headDim / 2);
            if (!query) {
                addBias(v, at, w.valueBias(), head * headDim, headDim);
                int slot = ((batchStart + b) % cachedPositions[layer]) * c.kvDim() + head * headDim;
                System.arraycopy(k, at, keyCache[layer], slot, headDim);
                System.arraycopy(v, at, valueCache[layer], slot, headDim);
            }
        }
    }

    private static void addBias(float[] vector, int at, FloatTensor bias, int biasAt, int n) {
        if (bias != null) {
            for (int i = 0; i < n; i++) {
                vector[at + i] += bias.getFloat(biasAt + i);
            }
        }
    }

    /**
     * Attention for items h * batch + b: query head h of token b over the positions it sees (all up to its own,
     * or on a local layer the last window of them). Head-major, so that every thread's share of a batch holds early
     * and late tokens alike (a late token attends to more positions: token-major, the last thread got the
     * costliest half of a prompt).
     */
    private void attentionHeads(int first, int end, int worker) {
        int headDim = c.headDim();
        int group = c.heads() / c.kvHeads();
        boolean local = c.isLocal(layer);
        for (int item = first; item < end; item++) {
            int h = item / batchSize;
            int b = item % batchSize;
            int pos = batchStart + b;
            int from = local ? Math.max(0, pos - c.window().size() + 1) : 0;
            int at = b * c.qDim() + h * headDim;
            attendHead(q, at, keyCache[layer], valueCache[layer], (h / group) * headDim, c.kvDim(), from, pos + 1,
                    cachedPositions[layer], headDim, c.attentionScale(), scores[worker], attention, at);
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

    /** out = RMSNorm(in) · weight for each of the batch's vectors, split across the pool (decode: one, on this thread). */
    private void normalize(FloatTensor weight, float[] in, float[] out, int batch) {
        normWeight = weight;
        normIn = in;
        normOut = out;
        pool.run(batch, normTask);
    }

    private void normalizeVectors(int start, int end, int worker) {
        for (int b = start; b < end; b++) {
            rmsNorm(normOut, b * c.dim(), normIn, b * c.dim(), normWeight, c.dim(), c.rmsEps());
        }
    }

    /** The gated activation over chunks [start, end) of GATE_CHUNK elements: an exponential each, which in one thread would hold up the pool. */
    private void gateChunks(int start, int end, int worker) {
        int from = start * GATE_CHUNK;
        int to = Math.min(gatedElements, end * GATE_CHUNK);
        if (features.activation() == Features.Activation.SILU) {
            swiglu(gate, up, from, to);
        } else {
            geglu(gate, up, from, to);
        }
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
