package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL21;
import org.lwjgl.opencl.KHRSubgroups;
import org.lwjgl.system.MemoryStack;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;
import static org.lwjgl.opencl.CL11.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE;

/**
 * Every kernel of the forward pass with a typed launch method, shaped for the device by a {@link DeviceTuning}.
 * Buffers are cl_mem handles; shapes are row-major with the token index outermost. The one-token matrix products
 * split rows over work-items as the tuning says (common.cl); RMSNorm and softmax run one work-group per row with
 * a power-of-two local size; the other kernels run on padded global sizes with a fixed local size along the
 * first dimension and ignore the work-items past the end.
 */
public final class Kernels {
    /** Tokens a matrix-matrix work-item takes at once: the TILE of the mul_mm kernels. */
    static final int TILE = 8;
    private static final int PREFERRED_GROUP_SIZE = 64;

    /** How a product's input is rounded before it, as llama.cpp's vec_dot_type for the weights' type. */
    enum Rounding {
        /** Float weights take the input as it is. */
        NONE,
        /** Q4_0, Q8_0: blocks of 32, fp16 scale amax / 127. */
        Q8_0,
        /** K-quants: blocks of 256, float scale max / -127, sums of 16. */
        Q8_K;

        static Rounding of(GgmlType type) {
            return switch (type) {
                case F32, F16 -> NONE;
                case Q4_0, Q8_0 -> Q8_0;
                case Q4_K, Q5_K, Q6_K -> Q8_K;
                default -> throw new IllegalArgumentException("no OpenCL matmul for " + type);
            };
        }
    }

    private final ClContext cl;
    private final DeviceTuning tuning;
    private final Map<Long, Integer> groupSizes = new HashMap<>();
    private final Map<GgmlType, Long> mulMv = new EnumMap<>(GgmlType.class);
    private final Map<GgmlType, Long> mulMm = new EnumMap<>(GgmlType.class);
    private final long quantizeQ8_0, quantizeQ8_K;
    private final long rmsNorm, rope, softmax, attentionScores, attentionValues, storeKv, swiglu, geglu, add, addBias, copy;
    /** Where inputs are rounded, one set per rounding, grown to the largest input seen. */
    private final Map<Rounding, Rounded> rounded = new EnumMap<>(Rounding.class);
    /** Counts {@link #input} calls: an Input is valid until the next one. */
    private long inputs;

    /** Buffers of a rounded input: quants (int8), scales (float), sums of 16 quants (short; Q8_K only). */
    record Rounded(long quants, long scales, long sums, long capacity) {
    }

    /**
     * Builds every kernel. {@code kvHalf}: the KV caches given to {@link #storeKv} and {@link #attention} hold fp16.
     * A driver that rejects a kernel throws {@link ClBuildException}; one whose subgroups do not match the tuning's
     * lanes throws {@link OpenClUnavailableException}.
     */
    public Kernels(ClContext cl, ClPrograms programs, DeviceTuning tuning, boolean kvHalf) {
        this.cl = cl;
        this.tuning = tuning;
        String tuned = tuning.buildOptions();
        for (GgmlType type : new GgmlType[] {GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0,
                GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K}) {
            String name = type.name().toLowerCase(Locale.ROOT);
            mulMv.put(type, programs.kernel("mul_mv_" + name, tuned));
            mulMm.put(type, programs.kernel("mul_mm_" + name, tuned));
        }
        if (tuning.rowSum() == DeviceTuning.RowSum.SUBGROUPS) {
            mulMv.values().forEach(this::checkSubgroups);
        }
        quantizeQ8_0 = programs.kernel("quantize_q8_0");
        quantizeQ8_K = programs.kernel("quantize_q8_k");
        String kv = ClPrograms.BASE_OPTIONS + (kvHalf ? " -DKV_HALF" : "");
        attentionScores = programs.kernel("attention_scores", kv);
        attentionValues = programs.kernel("attention_values", kv);
        storeKv = programs.kernel("store_kv", kv);
        rmsNorm = programs.kernel("rms_norm");
        rope = programs.kernel("rope");
        softmax = programs.kernel("softmax");
        swiglu = programs.kernel("swiglu");
        geglu = programs.kernel("geglu");
        add = programs.kernel("add");
        addBias = programs.kernel("add_bias");
        copy = programs.kernel("copy");
    }

    /**
     * The device's SIMD width as its compiler reports it for a simple kernel (the preferred work-group size
     * multiple: 32 on NVIDIA, 64 on AMD, the subgroup size on Mali and Adreno, the vector lanes on CPU devices).
     */
    public static int simdWidth(ClContext cl, ClPrograms programs) {
        long kernel = programs.kernel("add");
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer multiple = stack.mallocPointer(1);
            ClException.check(clGetKernelWorkGroupInfo(kernel, cl.device().id(),
                    CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, multiple, null), "clGetKernelWorkGroupInfo");
            return (int) multiple.get(0);
        }
    }

    public DeviceTuning tuning() {
        return tuning;
    }

    /** Types {@link #matmul} takes. */
    public static boolean supports(GgmlType type) {
        return switch (type) {
            case F32, F16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /**
     * The input of matrix products: {@code tokens} vectors of {@code cols} floats in {@code x}, rounded for each kind
     * of weights the first time a product needs it. Several products of one input (the query, key and value
     * projections) then share one rounding. Valid until the next {@link #input} call, while x is unchanged.
     */
    public final class Input {
        private final long x;
        private final int cols;
        private final int tokens;
        private final long generation;
        private boolean q8_0, q8_k;

        private Input(long x, int cols, int tokens, long generation) {
            this.x = x;
            this.cols = cols;
            this.tokens = tokens;
            this.generation = generation;
        }

        /** The buffers x is read from for weights of this rounding, rounding it now if that is not done yet. */
        Rounded as(Rounding rounding) {
            if (generation != inputs) {
                throw new IllegalStateException("a matrix product's input used after the next input was made");
            }
            if (rounding == Rounding.Q8_0 && !q8_0) {
                Rounded r = scratch(rounding, (long) tokens * cols);
                int blocks = tokens * cols / 32;
                new Args(quantizeQ8_0).mem(x).mem(r.quants()).mem(r.scales()).i(blocks);
                runPadded(quantizeQ8_0, 8L * blocks);
                q8_0 = true;
                return r;
            }
            if (rounding == Rounding.Q8_K && !q8_k) {
                Rounded r = scratch(rounding, (long) tokens * cols);
                int blocks = tokens * cols / 256;
                new Args(quantizeQ8_K).mem(x).mem(r.quants()).mem(r.scales()).mem(r.sums()).i(blocks);
                runPadded(quantizeQ8_K, 16L * blocks);
                q8_k = true;
                return r;
            }
            return rounded.get(rounding);
        }
    }

    public Input input(long x, int cols, int tokens) {
        return new Input(x, cols, tokens, ++inputs);
    }

    /** The rounding buffers for {@code values} values, grown if they are smaller (the context frees the old). */
    private Rounded scratch(Rounding rounding, long values) {
        Rounded r = rounded.get(rounding);
        if (r == null || r.capacity() < values) {
            r = new Rounded(cl.buffer(values), cl.buffer(values / 32 * Float.BYTES),
                    rounding == Rounding.Q8_K ? cl.buffer(values / 16 * Short.BYTES) : 0, values);
            rounded.put(rounding, r);
        }
        return r;
    }

    /** y[t] = W x[t] for t < tokens; x [tokens][w.cols], y [tokens][w.rows]. */
    public void matmul(DeviceMatrix w, long x, long y, int tokens) {
        matmul(w, input(x, w.cols(), tokens), y);
    }

    /**
     * y[t] = W x[t] for every vector of the input; y [tokens][w.rows]. Quantized weights take the input rounded as
     * llama.cpp rounds it for them (Q8_0 for Q4_0/Q8_0, Q8_K for K-quants), as the CPU backend does.
     */
    public void matmul(DeviceMatrix w, Input in, long y) {
        if (in.cols != w.cols()) {
            throw new IllegalArgumentException("input of " + in.cols + " for a matrix of " + w.cols() + " columns");
        }
        boolean decode = in.tokens == 1;
        Long kernel = (decode ? mulMv : mulMm).get(w.type());
        if (kernel == null) {
            throw new IllegalArgumentException("no OpenCL matmul for " + w.type());
        }
        Args args = new Args(kernel).mem(w.values());
        if (w.scales() != 0) {
            args.mem(w.scales());
        }
        Rounding rounding = Rounding.of(w.type());
        if (rounding == Rounding.NONE) {
            args.mem(in.x);
        } else {
            Rounded r = in.as(rounding);
            args.mem(r.quants()).mem(r.scales());
            if (rounding == Rounding.Q8_K && w.type() != GgmlType.Q6_K) {
                args.mem(r.sums()); // the mins of Q4_K and Q5_K; Q6_K has none
            }
        }
        args.mem(y).i(w.cols()).i(w.rows());
        if (decode) {
            long groups = (w.rows() + tuning.rows() - 1) / tuning.rows();
            run(kernel, new long[] {groups * tuning.groupSize()}, new long[] {tuning.groupSize()});
        } else {
            args.i(in.tokens);
            runPadded(kernel, w.rows(), (in.tokens + TILE - 1) / TILE);
        }
    }

    /** out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w; x, out [tokens][dim]; w [dim]. */
    public void rmsNorm(long x, long w, long out, int tokens, int dim, float eps) {
        int group = groupSize(rmsNorm);
        new Args(rmsNorm).mem(x).mem(w).mem(out).i(dim).f(eps).local(group * Float.BYTES);
        run(rmsNorm, new long[] {(long) tokens * group}, new long[] {group});
    }

    /**
     * RoPE in place on x [tokens][heads][headDim], turning pair i of token t by the angle whose cosine and sine are
     * cos[t][i] and sin[t][i] ([tokens][headDim / 2]); pairs (2i, 2i+1), or (i, i + headDim/2) when {@code neox}.
     */
    public void rope(long x, long cos, long sin, int tokens, int heads, int headDim, boolean neox) {
        new Args(rope).mem(x).mem(cos).mem(sin).i(heads).i(headDim).i(neox ? 1 : 0);
        runPadded(rope, headDim / 2, heads, tokens);
    }

    /** Softmax in place over the first firstLen + r / rowsPerStep entries of each row r of x [rows][stride]. */
    public void softmax(long x, int rows, int stride, int firstLen, int rowsPerStep) {
        int group = groupSize(softmax);
        new Args(softmax).mem(x).i(stride).i(firstLen).i(rowsPerStep).local(group * Float.BYTES);
        run(softmax, new long[] {(long) rows * group}, new long[] {group});
    }

    /**
     * Stores x [tokens][kvDim], the keys or values of positions startPos.., into a cache of {@code ring} positions
     * (position p at slot p % ring), in the cache's type (fp16 rounded to nearest even, or f32).
     */
    public void storeKv(long x, long cache, int startPos, int tokens, int kvDim, int ring) {
        int n = tokens * kvDim;
        new Args(storeKv).mem(x).mem(cache).i(startPos).i(kvDim).i(ring).i(n);
        runPadded(storeKv, n);
    }

    /**
     * Causal grouped-query attention of q [tokens][heads][headDim] (positions startPos..) over one layer's caches
     * k, v [ring][kvHeads][headDim] (position p at slot p % ring), which already hold these tokens; scores is scratch of
     * [tokens][heads][context] floats; out [tokens][heads][headDim]; scores are q·k times {@code scale}. With a
     * {@code window} (0: none) position p attends to positions p - window + 1..p only, and the caches need to hold
     * only the last window + tokens - 1 positions.
     */
    public void attention(long q, long k, long v, long scores, long out, int tokens, int heads, int kvHeads,
                          int headDim, int context, int startPos, float scale, int window, int ring) {
        new Args(attentionScores).mem(q).mem(k).mem(scores).i(heads).i(kvHeads).i(headDim).i(context).i(startPos)
                .f(scale).i(window).i(ring);
        runPadded(attentionScores, startPos + tokens, heads, tokens);
        softmax(scores, tokens * heads, context, startPos + 1, heads);
        new Args(attentionValues).mem(scores).mem(v).mem(out).i(heads).i(kvHeads).i(headDim).i(context).i(startPos)
                .i(window).i(ring);
        runPadded(attentionValues, headDim, heads, tokens);
    }

    /** gate[i] = silu(gate[i]) * up[i] for i < n. */
    public void swiglu(long gate, long up, int n) {
        new Args(swiglu).mem(gate).mem(up).i(n);
        runPadded(swiglu, n);
    }

    /** gate[i] = gelu(gate[i]) * up[i] for i < n, GELU's tanh form through fp16 as ggml's CPU backend. */
    public void geglu(long gate, long up, int n) {
        new Args(geglu).mem(gate).mem(up).i(n);
        runPadded(geglu, n);
    }

    /** x[i] += y[i] for i < n. */
    public void add(long x, long y, int n) {
        new Args(add).mem(x).mem(y).i(n);
        runPadded(add, n);
    }

    /** x[t][i] += bias[i] for x [n / width][width]. */
    public void addBias(long x, long bias, int width, int n) {
        new Args(addBias).mem(x).mem(bias).i(width).i(n);
        runPadded(addBias, n);
    }

    /** dst = src for {@code bytes} bytes, a multiple of 16, through the copy kernel (not the driver's copy). */
    public void copy(long src, long dst, long bytes) {
        int vectors = Math.toIntExact(bytes / 16);
        new Args(copy).mem(src).mem(dst).i(vectors);
        runPadded(copy, vectors);
    }

    /**
     * Runs a kernel over at least {@code size} work-items, with work-groups of a fixed size along the first
     * dimension (the kernel ignores the padding). Fixed, because PoCL compiles a kernel anew for each
     * work-group size, and the size a driver picks itself follows the global size, which here changes
     * with every token.
     */
    private void runPadded(long kernel, long... size) {
        long group = groupSize(kernel);
        long[] global = size.clone();
        global[0] = (size[0] + group - 1) / group * group;
        long[] local = new long[size.length];
        Arrays.fill(local, 1);
        local[0] = group;
        run(kernel, global, local);
    }

    private void run(long kernel, long[] global, long[] local) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            ClException.check(clEnqueueNDRangeKernel(cl.queue(), kernel, global.length, null, stack.pointers(global),
                    stack.pointers(local), null, null), "clEnqueueNDRangeKernel");
        }
    }

    /**
     * The largest power of two up to 64 (or up to the kernel's preferred multiple, the device's SIMD width, where
     * that is wider) that the device allows for this kernel. 64 fills two NVIDIA warps, one AMD wavefront, and
     * several Mali/Adreno subgroups.
     */
    private int groupSize(long kernel) {
        return groupSizes.computeIfAbsent(kernel, this::queryGroupSize);
    }

    private int queryGroupSize(long kernel) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer max = stack.mallocPointer(1);
            PointerBuffer multiple = stack.mallocPointer(1);
            ClException.check(clGetKernelWorkGroupInfo(kernel, cl.device().id(), CL_KERNEL_WORK_GROUP_SIZE, max, null),
                    "clGetKernelWorkGroupInfo");
            ClException.check(clGetKernelWorkGroupInfo(kernel, cl.device().id(),
                    CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE, multiple, null), "clGetKernelWorkGroupInfo");
            long wanted = Math.max(PREFERRED_GROUP_SIZE, multiple.get(0));
            return Integer.highestOneBit((int) Math.min(wanted, max.get(0)));
        }
    }

    /**
     * The subgroup kernels take subgroup i of a work-group as its row i and the subgroup's work-items as the row's
     * lanes, so a work-group of the tuning's size must split into exactly {@code rows} subgroups of {@code lanes}.
     * The driver says how it splits one (OpenCL 2.1's query, or cl_khr_subgroups' before it).
     */
    private void checkSubgroups(long kernel) {
        long size;
        long count;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            ByteBuffer local = stack.malloc(8).putLong(0, tuning.groupSize());
            PointerBuffer value = stack.mallocPointer(1);
            boolean core = cl.device().version().matches("OpenCL (2\\.[1-9]|[3-9]).*");
            int status = core
                    ? CL21.clGetKernelSubGroupInfo(kernel, cl.device().id(), CL21.CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE,
                    local, value, null)
                    : KHRSubgroups.clGetKernelSubGroupInfoKHR(kernel, cl.device().id(),
                    KHRSubgroups.CL_KERNEL_MAX_SUB_GROUP_SIZE_FOR_NDRANGE_KHR, local, value, null);
            ClException.check(status, "clGetKernelSubGroupInfo");
            size = value.get(0);
            status = core
                    ? CL21.clGetKernelSubGroupInfo(kernel, cl.device().id(), CL21.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE,
                    local, value, null)
                    : KHRSubgroups.clGetKernelSubGroupInfoKHR(kernel, cl.device().id(),
                    KHRSubgroups.CL_KERNEL_SUB_GROUP_COUNT_FOR_NDRANGE_KHR, local, value, null);
            ClException.check(status, "clGetKernelSubGroupInfo");
            count = value.get(0);
        } catch (NullPointerException e) { // LWJGL found no such function in the driver
            throw new OpenClUnavailableException("the driver offers no subgroup query");
        }
        if (size != tuning.lanes() || count != tuning.rows()) {
            throw new OpenClUnavailableException("a work-group of " + tuning.groupSize() + " splits into " + count
                    + " subgroups of " + size + ", not " + tuning.rows() + " of " + tuning.lanes());
        }
    }

    /** Sets a kernel's arguments in order. */
    private static final class Args {
        private final long kernel;
        private int index;

        Args(long kernel) {
            this.kernel = kernel;
        }

        Args mem(long buffer) {
            ClException.check(clSetKernelArg1p(kernel, index++, buffer), "clSetKernelArg");
            return this;
        }

        Args i(int value) {
            ClException.check(clSetKernelArg1i(kernel, index++, value), "clSetKernelArg");
            return this;
        }

        Args f(float value) {
            ClException.check(clSetKernelArg1f(kernel, index++, value), "clSetKernelArg");
            return this;
        }

        Args local(long bytes) {
            ClException.check(clSetKernelArg(kernel, index++, bytes), "clSetKernelArg");
            return this;
        }
    }
}
