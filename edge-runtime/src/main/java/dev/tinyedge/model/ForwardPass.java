package dev.tinyedge.model;

import dev.tinyedge.backend.Batch;
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
 * halves, with optional per-dimension factors; grouped-query attention with a causal mask over an f32 or f16 KV
 * cache, and a sliding window on the local layers of a {@link ModelConfig.SlidingWindow}; optional norms of the
 * attention and feed-forward outputs; SwiGLU or GELU-gated feed-forward; residual adds, final norm and output head.
 *
 * <p>Tokens are processed in batches: every matrix product takes the whole batch at once, so a weight row
 * is read once per batch (prefill) rather than once per token. Matrix rows, attention heads and elementwise work
 * are split across the worker pool. All buffers are allocated here, once; a forward pass allocates nothing.
 * Local layers keep only the positions their window can still see (plus a batch), in a ring.
 *
 * <p>The KV cache has one or more slots, each holding one sequence. A {@link Batch} evaluates tokens of
 * several slots in one pass (continuous batching): the products take all of them at once, so the weights are
 * read once per step, while each token attends only to its own slot's positions.
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
     * Per slot and layer, the key (value) of position p at index p % cachedPositions[l], [index * kvDim,
     * (index+1) * kvDim), heads one after another: floats, or fp16 bits when {@link #halfPrecision} (then the
     * float arrays are null, else the short ones). Global layers hold every position; local layers a ring of
     * window + batch - 1.
     */
    private final float[][][] keyCache;
    private final float[][][] valueCache;
    private final short[][][] keyCache16;
    private final short[][][] valueCache16;
    private final boolean halfPrecision;
    private final int slots;
    private final int[] cachedPositions;
    private final WindowRing ring;
    /** The slot and position of each token of the batch being evaluated. */
    private final int[] tokenSlots;
    private final int[] tokenPositions;
    /** A single sequence's batch, and the logits of each sequence of a {@link Batch}, one after another. */
    private final Batch single;
    private final float[] stepLogits;
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
    /** Per worker thread: a query head rounded to fp16, and one head of keys or values widened from fp16. */
    private final float[][] headScratch;

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

    /** One KV-cache slot of floats. */
    public ForwardPass(ModelWeights model, int contextLength, WorkerPool pool) {
        this(model, contextLength, 1, false, pool);
    }

    /**
     * @param slots         sequences the KV cache holds at once, each with {@code contextLength} positions
     * @param halfPrecision keep keys and values as fp16 (llama.cpp's default), half the memory of floats
     */
    public ForwardPass(ModelWeights model, int contextLength, int slots, boolean halfPrecision, WorkerPool pool) {
        this.model = model;
        this.c = model.config();
        this.features = c.features();
        if (contextLength < 1 || contextLength > c.contextLength()) {
            throw new IllegalArgumentException("context length " + contextLength + " is outside 1.." + c.contextLength()
                    + " (the model's context length)");
        }
        if (slots < 1) {
            throw new IllegalArgumentException("the KV cache needs at least one slot, got " + slots);
        }
        this.pool = pool;
        this.contextLength = contextLength;
        this.slots = slots;
        this.halfPrecision = halfPrecision;
        this.maxBatch = Math.min(MAX_BATCH, contextLength);
        ring = new WindowRing(c, contextLength, maxBatch, slots);
        cachedPositions = new int[c.layers()];
        for (int l = 0; l < c.layers(); l++) {
            cachedPositions[l] = ring.cachedPositions(l);
        }
        keyCache = halfPrecision ? null : new float[slots][c.layers()][];
        valueCache = halfPrecision ? null : new float[slots][c.layers()][];
        keyCache16 = halfPrecision ? new short[slots][c.layers()][] : null;
        valueCache16 = halfPrecision ? new short[slots][c.layers()][] : null;
        for (int slot = 0; slot < slots; slot++) {
            for (int l = 0; l < c.layers(); l++) {
                int size = cachedPositions[l] * c.kvDim();
                if (halfPrecision) {
                    keyCache16[slot][l] = new short[size];
                    valueCache16[slot][l] = new short[size];
                } else {
                    keyCache[slot][l] = new float[size];
                    valueCache[slot][l] = new float[size];
                }
            }
        }
        tokenSlots = new int[maxBatch];
        tokenPositions = new int[maxBatch];
        single = new Batch(maxBatch, 1);
        stepLogits = new float[Math.min(slots, maxBatch) * c.vocabSize()];
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
        headScratch = new float[pool.threads()][2 * c.headDim()];
    }

    public int contextLength() {
        return contextLength;
    }

    /** Sequences the KV cache holds at once. */
    public int slots() {
        return slots;
    }

    /** Tokens one pass evaluates at most (a {@link Batch} holds no more). */
    public int maxBatch() {
        return maxBatch;
    }

    /** Whether keys and values are kept as fp16. */
    public boolean halfPrecision() {
        return halfPrecision;
    }

    /** Who computes the matrix products. */
    public KernelProvider kernels() {
        return kernels;
    }

    /** {@link #forward(int, int[], int, int)} in slot 0. */
    public float[] forward(int[] tokens, int count, int startPos) {
        return forward(0, tokens, count, startPos);
    }

    /**
     * Evaluates tokens[0..count) at positions startPos.. of {@code slot} and returns the logits of the last one
     * (this buffer is overwritten by the next call). Cache entries below startPos are kept and attended to.
     */
    public float[] forward(int slot, int[] tokens, int count, int startPos) {
        checkSlot(slot);
        if (count < 1 || count > tokens.length) {
            throw new IllegalArgumentException("cannot evaluate " + count + " of " + tokens.length + " tokens");
        }
        checkSegment(slot, tokens, 0, count, startPos);
        rebuildRing(slot, startPos);
        ring.evaluating(slot, tokens, 0, count, startPos);
        int batch = 0;
        for (int done = 0; done < count; done += batch) {
            batch = Math.min(maxBatch, count - done);
            single.clear();
            single.add(slot, tokens, done, batch, startPos + done);
            evaluate(single);
        }
        outputLogits(single, logits);
        return logits;
    }

    /**
     * Evaluates one step of several sequences in one pass and returns the logits of each one's last token,
     * sequence s's at [s * vocabSize, (s+1) * vocabSize) (a buffer the next call overwrites).
     */
    public float[] forward(Batch step) {
        if (step.segments() < 1 || step.segments() > slots || step.size() > maxBatch) {
            throw new IllegalArgumentException("a step holds 1.." + maxBatch + " tokens of 1.." + slots
                    + " sequences, got " + step.size() + " of " + step.segments());
        }
        for (int s = 0; s < step.segments(); s++) {
            checkSlot(step.slot(s));
            checkSegment(step.slot(s), step.tokens(), step.offset(s), step.count(s), step.start(s));
        }
        for (int s = 0; s < step.segments(); s++) {
            rebuildRing(step.slot(s), step.start(s));
            ring.evaluating(step.slot(s), step.tokens(), step.offset(s), step.count(s), step.start(s));
        }
        evaluate(step);
        outputLogits(step, stepLogits);
        return stepLogits;
    }

    /**
     * Makes slot {@code to} hold what slot {@code from} holds at positions [0, length): a shared prompt prefix
     * evaluated once and copied rather than evaluated again in every slot.
     */
    public void copyPrefix(int from, int to, int length) {
        checkSlot(from);
        checkSlot(to);
        if (length < 0 || length > contextLength) {
            throw new IllegalArgumentException("cannot copy " + length + " positions of a context of " + contextLength);
        }
        if (from == to || length == 0) {
            return;
        }
        for (int l = 0; l < c.layers(); l++) {
            // a ring is copied whole: which of its positions are still the prefix's, the WindowRing says
            int values = (ring.wraps() && c.isLocal(l) ? cachedPositions[l] : length) * c.kvDim();
            if (halfPrecision) {
                System.arraycopy(keyCache16[from][l], 0, keyCache16[to][l], 0, values);
                System.arraycopy(valueCache16[from][l], 0, valueCache16[to][l], 0, values);
            } else {
                System.arraycopy(keyCache[from][l], 0, keyCache[to][l], 0, values);
                System.arraycopy(valueCache[from][l], 0, valueCache[to][l], 0, values);
            }
        }
        ring.copyPrefix(from, to, length);
    }

    private void checkSlot(int slot) {
        if (slot < 0 || slot >= slots) {
            throw new IllegalArgumentException("slot " + slot + " is outside the KV cache's 0.." + (slots - 1));
        }
    }

    private void checkSegment(int slot, int[] tokens, int from, int count, int startPos) {
        if (startPos < 0 || startPos + count > contextLength) {
            throw new IllegalArgumentException("cannot evaluate " + count + " tokens at position " + startPos
                    + " with a context of " + contextLength + " (slot " + slot + ")");
        }
        for (int i = from; i < from + count; i++) {
            if (tokens[i] < 0 || tokens[i] >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + tokens[i] + " is outside the vocabulary 0.." + (c.vocabSize() - 1));
            }
        }
    }

    /** A rewind to a prefix whose window later positions have overwritten in the ring: evaluates the prefix again. */
    private void rebuildRing(int slot, int startPos) {
        if (ring.holds(slot, startPos)) {
            return;
        }
        for (int done = 0, batch; done < startPos; done += batch) {
            batch = Math.min(maxBatch, startPos - done);
            single.clear();
            single.add(slot, ring.history(slot), done, batch, done);
            evaluate(single);
        }
    }

    /** Final norm and output head of each segment's last token, segment s's logits at out[s * vocabSize..]. */
    private void outputLogits(Batch step, float[] out) {
        int dim = c.dim();
        int segments = step.segments();
        for (int s = 0; s < segments; s++) {
            int last = step.offset(s) + step.count(s) - 1;
            rmsNorm(xb, s * dim, x, last * dim, model.outputNorm(), dim, c.rmsEps());
        }
        product(0, model.output(), out, 0, c.vocabSize());
        runProducts(1, xb, segments, dim);
    }

    /** Evaluates the step's tokens (at most {@link #maxBatch}) through every layer, leaving their states in x. */
    private void evaluate(Batch step) {
        int dim = c.dim();
        int batch = step.size();
        float embeddingScale = c.embeddingScale();
        int[] tokens = step.tokens();
        for (int s = 0; s < step.segments(); s++) {
            for (int i = 0; i < step.count(s); i++) {
                tokenSlots[step.offset(s) + i] = step.slot(s);
                tokenPositions[step.offset(s) + i] = step.start(s) + i;
            }
        }
        for (int b = 0; b < batch; b++) {
            model.tokenEmbedding().dequantize((long) tokens[b] * dim, x, b * dim, dim);
            if (embeddingScale != 1f) {
                for (int i = b * dim; i < (b + 1) * dim; i++) {
                    x[i] *= embeddingScale;
                }
            }
        }
        ropeAngles(batch);
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
        for (int b = 0; b < batch; b++) {
            ring.stored(tokenSlots[b], tokenPositions[b]);
        }
    }

    /** The cos and sin of every rotation angle of the batch's positions, once per batch for all layers. */
    private void ropeAngles(int batch) {
        int pairs = c.headDim() / 2;
        for (int table = 0; table < ropeBases.length; table++) {
            for (int b = 0; b < batch; b++) {
                ropeAngles(tokenPositions[b], pairs, ropeBases[table], ropeScales[table], ropeFactors, ropeCos[table],
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

    /**
     * {@link #attendHead(float[], int, float[], float[], int, int, int, int, int, int, float, float[], float[], int)}
     * over keys and values kept as fp16, as ggml multiplies an f16 KV cache (llama.cpp's default, without flash
     * attention): the query is rounded to fp16 for its products with the keys, and each attention weight to fp16 for
     * its product with the values, both summed in float. {@code head} holds 2 x headDim floats: the rounded query,
     * and each position's key or value widened to floats.
     */
    static void attendHead(float[] q, int qAt, short[] keys, short[] values, int kvAt, int kvDim, int from, int to,
                           int ring, int headDim, float scale, float[] scores, float[] head, float[] out, int outAt) {
        for (int i = 0; i < headDim; i++) {
            head[i] = Float.float16ToFloat(Float.floatToFloat16(q[qAt + i]));
        }
        float max = Float.NEGATIVE_INFINITY;
        int first = from % ring;
        for (int t = 0, slot = first; t < to - from; t++, slot = slot + 1 == ring ? 0 : slot + 1) {
            toFloat(keys, slot * kvDim + kvAt, head, headDim, headDim);
            float score = Simd.dot(head, 0, head, headDim, headDim) * scale;
            scores[t] = score;
            max = Math.max(max, score);
        }
        float sum = Simd.expShifted(scores, 0, to - from, max);
        Arrays.fill(out, outAt, outAt + headDim, 0f);
        for (int t = 0, slot = first; t < to - from; t++, slot = slot + 1 == ring ? 0 : slot + 1) {
            toFloat(values, slot * kvDim + kvAt, head, headDim, headDim);
            float weight = Float.float16ToFloat(Float.floatToFloat16(scores[t] / sum));
            Simd.axpy(weight, head, headDim, out, outAt, headDim);
        }
    }

    /** fp16 bits of in[at, at + n) into out[outAt..], rounded to nearest even (as ggml's fp32 to fp16). */
    static void toHalf(float[] in, int at, short[] out, int outAt, int n) {
        for (int i = 0; i < n; i++) {
            out[outAt + i] = Float.floatToFloat16(in[at + i]);
        }
    }

    private static void toFloat(short[] in, int at, float[] out, int outAt, int n) {
        for (int i = 0; i < n; i++) {
            out[outAt + i] = Float.float16ToFloat(in[at + i]);
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
     * the layer's cache of their sequence's slot, at their position's index.
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
                int index = (tokenPositions[b] % cachedPositions[layer]) * c.kvDim() + head * headDim;
                int slot = tokenSlots[b];
                if (halfPrecision) {
                    toHalf(k, at, keyCache16[slot][layer], index, headDim);
                    toHalf(v, at, valueCache16[slot][layer], index, headDim);
                } else {
                    System.arraycopy(k, at, keyCache[slot][layer], index, headDim);
                    System.arraycopy(v, at, valueCache[slot][layer], index, headDim);
                }
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
     * Attention for items h * batch + b: query head h of token b over the positions of its own sequence's slot that
     * it sees (all up to its own, or on a local layer the last window of them). Head-major, so that every thread's share of a batch holds early
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
            int pos = tokenPositions[b];
            int slot = tokenSlots[b];
            int from = local ? Math.max(0, pos - c.window().size() + 1) : 0;
            int at = b * c.qDim() + h * headDim;
            if (halfPrecision) {
                attendHead(q, at, keyCache16[slot][layer], valueCache16[slot][layer], (h / group) * headDim, c.kvDim(),
                        from, pos + 1, cachedPositions[layer], headDim, c.attentionScale(), scores[worker],
                        headScratch[worker], attention, at);
            } else {
                attendHead(q, at, keyCache[slot][layer], valueCache[slot][layer], (h / group) * headDim, c.kvDim(),
                        from, pos + 1, cachedPositions[layer], headDim, c.attentionScale(), scores[worker], attention, at);
            }
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
