package dev.tinyedge.opencl;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.model.Features;
import dev.tinyedge.model.ForwardPass;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.model.WindowRing;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;
import org.lwjgl.system.MemoryUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The forward pass on an OpenCL device, for every family the CPU backend runs, with the parts of the block each
 * has ({@link Features}): llama (Llama 2 and 3, with RoPE factors), qwen2 (Q/K/V biases), qwen3
 * (per-head Q/K norms, heads · headDim wider than the embedding), gemma3 (embeddings scaled by √dim, norms after
 * attention and the feed-forward, GELU gate, sliding-window attention on the local layers with their own RoPE
 * base); adjacent-pair or NEOX RoPE, tied or separate output heads. Weights are uploaded once (see
 * {@link WeightLoader}); the KV cache ([context][kvDim] per layer, fp16 unless {@code -Dtinyedge.opencl.kv=f32};
 * a sliding-window layer keeps a ring of only the positions its window can see while a batch is added, as the CPU
 * backend does) and every activation stay on the device. Per batch the host only writes the token embeddings (rows looked up in the mapping) and reads
 * the last token's logits. Prompts longer than {@link #MAX_BATCH} tokens are evaluated in batches, which bounds
 * the attention scratch at MAX_BATCH x heads x context floats.
 */
public final class OpenClBackend implements Backend {
    public static final String NAME = "opencl";
    static final int MAX_BATCH = 64;
    static final String KV_PROPERTY = "tinyedge.opencl.kv";
    private static final Logger log = LoggerFactory.getLogger(OpenClBackend.class);

    private final ModelConfig config;
    private final FloatTensor tokenEmbedding;
    private final int contextLength;
    private final ClContext cl;
    private final ClPrograms programs;
    private final Kernels kernels;
    private final boolean kvHalf;
    private final Layer[] layers;
    private final long outputNorm;
    private final DeviceMatrix output;
    private final long x, normed, q, k, v, attention, scores, gate, up, last, logitsOnDevice;
    private final float[] embeddingRow;
    private final FloatBuffer embeddings;
    private final float[] logits;
    /** RoPE's per-dimension frequency divisors (Llama 3's rope_freqs.weight), or null. */
    private final float[] ropeFactors;
    /**
     * Per RoPE table (global layers, then local layers' if the model has a window) and batch token, the cos and sin of
     * each pair's angle ([token][headDim / 2]), computed here, read by rope.cl.
     */
    private final long[] ropeCos, ropeSin;
    private final float[] ropeCosHost, ropeSinHost;
    private final FloatBuffer ropeStaging;
    /** What the sliding-window layers' caches hold; the device keeps one sequence, slot 0. */
    private final WindowRing ring;

    /** One block's weights on the device; an absent bias or norm is 0. */
    private record Layer(long attentionNorm, DeviceMatrix query, DeviceMatrix key, DeviceMatrix value,
                         long queryBias, long keyBias, long valueBias, long queryNorm, long keyNorm,
                         DeviceMatrix attentionOutput, long postAttentionNorm, long ffnNorm, DeviceMatrix gate,
                         DeviceMatrix up, DeviceMatrix down, long postFfnNorm, long keyCache, long valueCache) {
    }

    private OpenClBackend(ModelWeights model, int contextLength, ClContext cl, ClPrograms programs, Kernels kernels,
                          boolean kvHalf) {
        this.config = model.config();
        this.tokenEmbedding = model.tokenEmbedding();
        this.contextLength = contextLength;
        this.cl = cl;
        this.programs = programs;
        this.kernels = kernels;
        this.kvHalf = kvHalf;
        ModelConfig c = config;
        WeightLoader loader = new WeightLoader(cl);
        ring = new WindowRing(c, contextLength, MAX_BATCH, 1);
        layers = new Layer[c.layers()];
        for (int i = 0; i < layers.length; i++) {
            ModelWeights.Layer l = model.layers().get(i);
            long cacheBytes = (long) ring.cachedPositions(i) * c.kvDim() * (kvHalf ? 2 : Float.BYTES);
            layers[i] = new Layer(loader.uploadVector(l.attentionNorm().data()),
                    matrix(loader, l.query(), c.qDim(), c.dim()),
                    matrix(loader, l.key(), c.kvDim(), c.dim()),
                    matrix(loader, l.value(), c.kvDim(), c.dim()),
                    vector(loader, l.queryBias()), vector(loader, l.keyBias()), vector(loader, l.valueBias()),
                    vector(loader, l.queryNorm()), vector(loader, l.keyNorm()),
                    matrix(loader, l.attentionOutput(), c.dim(), c.qDim()),
                    vector(loader, l.postAttentionNorm()),
                    loader.uploadVector(l.ffnNorm().data()),
                    matrix(loader, l.gate(), c.ffnDim(), c.dim()),
                    matrix(loader, l.up(), c.ffnDim(), c.dim()),
                    matrix(loader, l.down(), c.dim(), c.ffnDim()),
                    vector(loader, l.postFfnNorm()),
                    cl.buffer(cacheBytes), cl.buffer(cacheBytes));
        }
        outputNorm = loader.uploadVector(model.outputNorm().data());
        output = matrix(loader, model.output(), c.vocabSize(), c.dim());
        x = activations(c.dim());
        normed = activations(c.dim());
        q = activations(c.qDim());
        k = activations(c.kvDim());
        v = activations(c.kvDim());
        attention = activations(c.qDim());
        scores = activations((long) c.heads() * contextLength);
        gate = activations(c.ffnDim());
        up = activations(c.ffnDim());
        last = cl.buffer((long) c.dim() * Float.BYTES);
        logitsOnDevice = cl.buffer((long) c.vocabSize() * Float.BYTES);
        embeddingRow = new float[c.dim()];
        embeddings = MemoryUtil.memAllocFloat(MAX_BATCH * c.dim());
        logits = new float[c.vocabSize()];
        if (model.ropeFactors() == null) {
            ropeFactors = null;
        } else {
            ropeFactors = new float[c.headDim() / 2];
            model.ropeFactors().dequantize(0, ropeFactors, 0, ropeFactors.length);
        }
        int angles = MAX_BATCH * c.headDim() / 2;
        int tables = c.window().size() > 0 ? 2 : 1;
        ropeCos = new long[tables];
        ropeSin = new long[tables];
        for (int table = 0; table < tables; table++) {
            ropeCos[table] = activations(c.headDim() / 2);
            ropeSin[table] = activations(c.headDim() / 2);
        }
        ropeCosHost = new float[angles];
        ropeSinHost = new float[angles];
        ropeStaging = MemoryUtil.memAllocFloat(angles);
    }

    /**
     * Opens the device that {@code selector} names (null: the first GPU, else the first device; see
     * {@link OpenCl#select}), builds the kernels as {@link DeviceTuning} shapes them for it and uploads the weights.
     */
    public static OpenClBackend open(ModelWeights model, int contextLength, String selector) {
        checkTypes(model);
        return open(model, contextLength, OpenCl.select(OpenCl.devices(), selector), null);
    }

    /**
     * Opens {@code device} with kernels of this tuning (null: the device's own). Kernels that use optional
     * extensions and do not build here (or whose subgroups do not fit) give way to the portable ones, with a warning.
     */
    static OpenClBackend open(ModelWeights model, int contextLength, ClDevice device, DeviceTuning tuning) {
        boolean kvHalf = kvHalf();
        ClContext cl = new ClContext(device);
        ClPrograms programs = new ClPrograms(cl, ClPrograms.defaultCacheDir(), kernelOverrides());
        try {
            if (tuning == null) {
                tuning = DeviceTuning.forDevice(device, Kernels.simdWidth(cl, programs));
            }
            Kernels kernels;
            try {
                kernels = new Kernels(cl, programs, tuning, kvHalf);
            } catch (ClException | OpenClUnavailableException e) {
                if (!tuning.usesExtensions()) {
                    throw e;
                }
                log.warn("OpenCL: kernels with {} unusable here ({}); using the portable ones", tuning.describe(),
                        String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", "; "));
                tuning = tuning.portable();
                kernels = new Kernels(cl, programs, tuning, kvHalf);
            }
            log.info("OpenCL kernels: {}; KV cache {}", tuning.describe(), kvHalf ? "f16" : "f32");
            return new OpenClBackend(model, contextLength, cl, programs, kernels, kvHalf);
        } catch (RuntimeException e) {
            programs.close();
            cl.close();
            throw e;
        }
    }

    /** -Dtinyedge.opencl.kv=f16 (the default: half the memory, as llama.cpp's default cache) or f32. */
    static boolean kvHalf() {
        String kv = System.getProperty(KV_PROPERTY, "f16");
        return switch (kv) {
            case "f16" -> true;
            case "f32" -> false;
            default -> throw new IllegalArgumentException("-D" + KV_PROPERTY + " must be f16 or f32, not " + kv);
        };
    }

    /**
     * Fails before any device work if a matrix has a type without kernels or a norm weight is not F32 (as
     * llama.cpp's converters write them).
     */
    private static void checkTypes(ModelWeights model) {
        List<FloatTensor> matrices = new ArrayList<>(List.of(model.output()));
        List<FloatTensor> norms = new ArrayList<>(List.of(model.outputNorm()));
        for (ModelWeights.Layer l : model.layers()) {
            matrices.addAll(List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.gate(), l.up(), l.down()));
            for (FloatTensor vector : new FloatTensor[] {l.attentionNorm(), l.ffnNorm(), l.queryBias(), l.keyBias(),
                    l.valueBias(), l.queryNorm(), l.keyNorm(), l.postAttentionNorm(), l.postFfnNorm()}) {
                if (vector != null) {
                    norms.add(vector);
                }
            }
        }
        for (FloatTensor matrix : matrices) {
            if (!Kernels.supports(matrix.type())) {
                throw new OpenClUnavailableException("the model has " + matrix.type()
                        + " tensors; the OpenCL kernels cover F32, F16, Q8_0, Q4_0, Q4_K, Q5_K and Q6_K");
            }
        }
        for (FloatTensor norm : norms) {
            if (norm.type() != GgmlType.F32) {
                throw new OpenClUnavailableException("the model has " + norm.type()
                        + " norm weights or biases; the OpenCL backend takes F32");
            }
        }
    }

    /** -Dtinyedge.opencl.kernels=DIR: .cl files there replace the bundled ones (kernel development). */
    private static Path kernelOverrides() {
        String dir = System.getProperty("tinyedge.opencl.kernels");
        return dir == null ? null : Path.of(dir);
    }

    private static DeviceMatrix matrix(WeightLoader loader, FloatTensor tensor, int rows, int cols) {
        return loader.upload(tensor.type(), rows, cols, tensor.data());
    }

    /** A 1-D F32 tensor on the device, or 0 for none. */
    private static long vector(WeightLoader loader, FloatTensor tensor) {
        return tensor == null ? 0 : loader.uploadVector(tensor.data());
    }

    private long activations(long perToken) {
        return cl.buffer(MAX_BATCH * perToken * Float.BYTES);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return NAME + " (" + cl.device().describe() + ")";
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public float[] forward(int[] tokens, int count, int startPos) {
        if (count < 1 || startPos < 0 || startPos + count > contextLength) {
            throw new IllegalArgumentException("positions " + startPos + ".." + (startPos + count - 1)
                    + " do not fit the context of " + contextLength);
        }
        if (!ring.holds(0, startPos)) {
            // a rewind to a prefix whose window later positions have overwritten: evaluate the prefix again
            evaluateBatches(ring.history(0), startPos, 0);
        }
        ring.evaluating(0, tokens, 0, count, startPos);
        int batch = evaluateBatches(tokens, count, startPos);
        // the last token's hidden state is row batch - 1 of x
        int dim = config.dim();
        cl.copy(x, (long) (batch - 1) * dim * Float.BYTES, last, 0, (long) dim * Float.BYTES);
        kernels.rmsNorm(last, outputNorm, normed, 1, dim, config.rmsEps());
        kernels.matmul(output, normed, logitsOnDevice, 1);
        cl.read(logitsOnDevice, 0, logits);
        return logits;
    }

    /** Evaluates tokens[0, count) at positions startPos.., batch by batch; returns the last batch's size (0: none). */
    private int evaluateBatches(int[] tokens, int count, int startPos) {
        int batch = 0;
        for (int done = 0; done < count; done += batch) {
            batch = Math.min(MAX_BATCH, count - done);
            evaluate(tokens, done, batch, startPos + done);
            for (int p = startPos + done; p < startPos + done + batch; p++) {
                ring.stored(0, p);
            }
        }
        return batch;
    }

    /** Runs tokens[from, from + n) at positions pos.. through every layer, leaving their states in x. */
    private void evaluate(int[] tokens, int from, int n, int pos) {
        ModelConfig c = config;
        int dim = c.dim();
        float embeddingScale = c.embeddingScale();
        embeddings.clear();
        for (int t = 0; t < n; t++) {
            tokenEmbedding.dequantize((long) tokens[from + t] * dim, embeddingRow, 0, dim);
            if (embeddingScale != 1f) {
                for (int i = 0; i < dim; i++) {
                    embeddingRow[i] *= embeddingScale;
                }
            }
            embeddings.put(embeddingRow);
        }
        cl.write(x, 0, embeddings.flip());
        writeRopeAngles(n, pos);
        boolean neox = switch (c.features().rope()) { // exhaustive: a new style fails to compile here
            case ADJACENT_PAIRS -> false;
            case NEOX -> true;
        };
        for (int i = 0; i < layers.length; i++) {
            Layer l = layers[i];
            int table = c.isLocal(i) ? 1 : 0;
            kernels.rmsNorm(x, l.attentionNorm(), normed, n, dim, c.rmsEps());
            Kernels.Input h = kernels.input(normed, dim, n);
            kernels.matmul(l.query(), h, q);
            kernels.matmul(l.key(), h, k);
            kernels.matmul(l.value(), h, v);
            addBias(q, l.queryBias(), c.qDim(), n);
            addBias(k, l.keyBias(), c.kvDim(), n);
            addBias(v, l.valueBias(), c.kvDim(), n);
            if (l.queryNorm() != 0) { // each head normalized on its own, in place
                kernels.rmsNorm(q, l.queryNorm(), q, n * c.heads(), c.headDim(), c.rmsEps());
                kernels.rmsNorm(k, l.keyNorm(), k, n * c.kvHeads(), c.headDim(), c.rmsEps());
            }
            kernels.rope(q, ropeCos[table], ropeSin[table], n, c.heads(), c.headDim(), neox);
            kernels.rope(k, ropeCos[table], ropeSin[table], n, c.kvHeads(), c.headDim(), neox);
            int cached = ring.cachedPositions(i);
            kernels.storeKv(k, l.keyCache(), pos, n, c.kvDim(), cached);
            kernels.storeKv(v, l.valueCache(), pos, n, c.kvDim(), cached);
            kernels.attention(q, l.keyCache(), l.valueCache(), scores, attention, n, c.heads(), c.kvHeads(),
                    c.headDim(), contextLength, pos, c.attentionScale(), c.isLocal(i) ? c.window().size() : 0, cached);
            kernels.matmul(l.attentionOutput(), attention, normed, n);
            postNorm(l.postAttentionNorm(), n);
            kernels.add(x, normed, n * dim);
            kernels.rmsNorm(x, l.ffnNorm(), normed, n, dim, c.rmsEps());
            Kernels.Input f = kernels.input(normed, dim, n);
            kernels.matmul(l.gate(), f, gate);
            kernels.matmul(l.up(), f, up);
            switch (c.features().activation()) {
                case SILU -> kernels.swiglu(gate, up, n * c.ffnDim());
                case GELU_TANH -> kernels.geglu(gate, up, n * c.ffnDim());
            }
            kernels.matmul(l.down(), gate, normed, n);
            postNorm(l.postFfnNorm(), n);
            kernels.add(x, normed, n * dim);
        }
    }

    /** Gemma's norm of a sub-block's output (in normed) before its residual add; nothing without one. */
    private void postNorm(long weight, int tokens) {
        if (weight != 0) {
            kernels.rmsNorm(normed, weight, normed, tokens, config.dim(), config.rmsEps());
        }
    }

    private void addBias(long projection, long bias, int width, int tokens) {
        if (bias != 0) {
            kernels.addBias(projection, bias, width, tokens * width);
        }
    }

    /**
     * The cos and sin of every rotation angle of positions pos..pos+n-1, computed by the CPU backend's own code, so
     * that both backends turn by the same float angles (see {@link ForwardPass#ropeAngles}), into the device's tables.
     */
    private void writeRopeAngles(int n, int pos) {
        int pairs = config.headDim() / 2;
        for (int table = 0; table < ropeCos.length; table++) {
            // the local layers' table: their own base, never scaled (ModelConfig.ropeBase(layer), ropeScale(layer))
            float base = table == 0 ? config.ropeBase() : config.window().ropeBase();
            float scale = table == 0 ? config.ropeScale() : 1f;
            for (int t = 0; t < n; t++) {
                ForwardPass.ropeAngles(pos + t, pairs, base, scale, ropeFactors, ropeCosHost, ropeSinHost, t * pairs);
            }
            cl.write(ropeCos[table], 0, ropeStaging.clear().put(ropeCosHost, 0, n * pairs).flip());
            cl.write(ropeSin[table], 0, ropeStaging.clear().put(ropeSinHost, 0, n * pairs).flip());
        }
    }

    /** Bytes of weights one decode step reads: every matrix once (the embedding row is looked up on the host). */
    long weightBytesPerToken() {
        long bytes = output.bytes();
        for (Layer l : layers) {
            for (DeviceMatrix m : List.of(l.query(), l.key(), l.value(), l.attentionOutput(), l.gate(), l.up(), l.down())) {
                bytes += m.bytes();
            }
        }
        return bytes;
    }

    /** Measures the copy kernel's bandwidth now (see {@link CopyBandwidth}). */
    @Override
    public Optional<MemoryTraffic> memoryTraffic() {
        return Optional.of(new MemoryTraffic(weightBytesPerToken(), CopyBandwidth.measure(cl, kernels),
                "the copy kernel"));
    }

    /**
     * Seconds that the matrix products of {@code steps} decode steps take, on the device's current activations:
     * each layer's products and the output head, with the inputs rounded as a forward pass rounds them, and
     * nothing else (no norms, attention or host round trip). For {@link DeviceBench}.
     */
    double timeDecodeProducts(int steps) {
        int dim = config.dim();
        cl.finish();
        long started = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            for (Layer l : layers) {
                Kernels.Input h = kernels.input(normed, dim, 1);
                kernels.matmul(l.query(), h, q);
                kernels.matmul(l.key(), h, k);
                kernels.matmul(l.value(), h, v);
                kernels.matmul(l.attentionOutput(), attention, x, 1);
                Kernels.Input f = kernels.input(normed, dim, 1);
                kernels.matmul(l.gate(), f, gate);
                kernels.matmul(l.up(), f, up);
                kernels.matmul(l.down(), gate, x, 1);
            }
            kernels.matmul(output, normed, logitsOnDevice, 1);
        }
        cl.finish();
        return (System.nanoTime() - started) / 1e9;
    }

    Kernels kernels() {
        return kernels;
    }

    ClContext cl() {
        return cl;
    }

    boolean kvCacheIsHalf() {
        return kvHalf;
    }

    @Override
    public void close() {
        programs.close();
        cl.close();
        MemoryUtil.memFree(embeddings);
        MemoryUtil.memFree(ropeStaging);
    }
}
