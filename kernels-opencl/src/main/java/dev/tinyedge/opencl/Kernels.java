package dev.tinyedge.opencl;

import dev.tinyedge.tensor.GgmlType;
import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;
import static org.lwjgl.opencl.CL11.CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE;

/**
 * Every kernel of the forward pass with a typed launch method. Buffers are cl_mem handles; shapes are
 * row-major with the token index outermost. RMSNorm and softmax run one work-group per row with a
 * power-of-two local size and reduce in local memory, and so do the one-token matrix products on GPUs
 * (see {@link MatVecSplit}); the other kernels run on padded global sizes with a fixed local size along the
 * first dimension and ignore the work-items past the end.
 */
public final class Kernels {
    /** Tokens a matrix-matrix work-group takes at once: the TILE of the mul_mm kernels. */
    static final int TILE = 8;
    private static final int PREFERRED_GROUP_SIZE = 64;

    /** How a one-token (decode) matrix product spreads a matrix over work-items. */
    public enum MatVecSplit {
        /** One work-item per output row, no local memory, no barriers: the fast split on CPU devices (PoCL). */
        ROW_PER_ITEM,
        /**
         * One work-group per output row, its work-items striding along the row so that neighbouring work-items
         * read neighbouring memory (coalesced loads), partial sums added in local memory: the split for GPUs.
         */
        ROW_PER_GROUP;

        /** {@code -Dtinyedge.opencl.matvec=item|group}, else ROW_PER_GROUP on GPUs and ROW_PER_ITEM on other devices. */
        static MatVecSplit forDevice(ClDevice device) {
            String configured = System.getProperty("tinyedge.opencl.matvec");
            if (configured == null) {
                return device.gpu() ? ROW_PER_GROUP : ROW_PER_ITEM;
            }
            return switch (configured) {
                case "item" -> ROW_PER_ITEM;
                case "group" -> ROW_PER_GROUP;
                default -> throw new IllegalArgumentException(
                        "-Dtinyedge.opencl.matvec must be item or group, not " + configured);
            };
        }
    }

    private final ClContext cl;
    private final MatVecSplit matVecSplit;
    private final Map<Long, Integer> groupSizes = new HashMap<>();
    private final long mulMvF32, mulMmF32, mulMvF16, mulMmF16, mulMvQ8, mulMmQ8, mulMvQ4, mulMmQ4;
    private final long rmsNorm, rope, softmax, attentionScores, attentionValues, swiglu, add, roundQ8;
    /** Where a Q4_0/Q8_0 product's input is rounded to Q8_0; grown to the largest input seen. */
    private long rounded;
    private long roundedBytes;

    public Kernels(ClContext cl, ClPrograms programs) {
        this(cl, programs, MatVecSplit.forDevice(cl.device()));
    }

    Kernels(ClContext cl, ClPrograms programs, MatVecSplit matVecSplit) {
        this.cl = cl;
        this.matVecSplit = matVecSplit;
        String mv = matVecSplit == MatVecSplit.ROW_PER_GROUP ? "_group" : "";
        mulMvF32 = programs.kernel("matmul_f32.cl", "mul_mv_f32" + mv);
        mulMmF32 = programs.kernel("matmul_f32.cl", "mul_mm_f32");
        mulMvF16 = programs.kernel("matmul_f16.cl", "mul_mv_f16" + mv);
        mulMmF16 = programs.kernel("matmul_f16.cl", "mul_mm_f16");
        mulMvQ8 = programs.kernel("matmul_q8_0.cl", "mul_mv_q8_0" + mv);
        mulMmQ8 = programs.kernel("matmul_q8_0.cl", "mul_mm_q8_0");
        mulMvQ4 = programs.kernel("matmul_q4_0.cl", "mul_mv_q4_0" + mv);
        mulMmQ4 = programs.kernel("matmul_q4_0.cl", "mul_mm_q4_0");
        rmsNorm = programs.kernel("rms_norm.cl", "rms_norm");
        rope = programs.kernel("rope.cl", "rope");
        softmax = programs.kernel("softmax.cl", "softmax");
        attentionScores = programs.kernel("attention.cl", "attention_scores");
        attentionValues = programs.kernel("attention.cl", "attention_values");
        swiglu = programs.kernel("swiglu.cl", "swiglu");
        add = programs.kernel("add.cl", "add");
        roundQ8 = programs.kernel("round_q8_0.cl", "round_q8_0");
    }

    /** Types {@link #matmul} takes. */
    public static boolean supports(GgmlType type) {
        return type == GgmlType.F32 || type == GgmlType.F16 || type == GgmlType.Q8_0 || type == GgmlType.Q4_0;
    }

    /**
     * y[t] = W x[t] for t < tokens; x [tokens][w.cols], y [tokens][w.rows]. Q4_0 and Q8_0 weights take x rounded
     * to Q8_0, as the CPU backend and llama.cpp do.
     */
    public void matmul(DeviceMatrix w, long x, long y, int tokens) {
        boolean decode = tokens == 1;
        long kernel = switch (w.type()) {
            case F32 -> decode ? mulMvF32 : mulMmF32;
            case F16 -> decode ? mulMvF16 : mulMmF16;
            case Q8_0 -> decode ? mulMvQ8 : mulMmQ8;
            case Q4_0 -> decode ? mulMvQ4 : mulMmQ4;
            default -> throw new IllegalArgumentException("no OpenCL matmul for " + w.type());
        };
        Args args = new Args(kernel).mem(w.values());
        if (w.type().isQuantized()) {
            args.mem(w.scales());
            x = roundedToQ8_0(x, w.cols() * tokens);
        }
        args.mem(x).mem(y).i(w.cols()).i(w.rows());
        if (decode && matVecSplit == MatVecSplit.ROW_PER_GROUP) {
            int group = groupSize(kernel);
            args.local(group * Float.BYTES);
            run(kernel, new long[] {(long) w.rows() * group}, new long[] {group});
        } else if (decode) {
            runPadded(kernel, w.rows());
        } else {
            args.i(tokens);
            runPadded(kernel, w.rows(), (tokens + TILE - 1) / TILE);
        }
    }

    /** x[0, n) rounded to Q8_0 (n a multiple of 32) into a scratch buffer, which is returned. */
    long roundedToQ8_0(long x, int n) {
        long bytes = (long) n * Float.BYTES;
        if (bytes > roundedBytes) {
            rounded = cl.buffer(bytes); // the context releases the smaller one with the rest
            roundedBytes = bytes;
        }
        int blocks = n / 32;
        new Args(roundQ8).mem(x).mem(rounded).i(blocks);
        runPadded(roundQ8, blocks);
        return rounded;
    }

    /** out[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w; x, out [tokens][dim]; w [dim]. */
    public void rmsNorm(long x, long w, long out, int tokens, int dim, float eps) {
        int group = groupSize(rmsNorm);
        new Args(rmsNorm).mem(x).mem(w).mem(out).i(dim).f(eps).local(group * Float.BYTES);
        run(rmsNorm, new long[] {(long) tokens * group}, new long[] {group});
    }

    /** RoPE in place on x [tokens][heads][headDim], token t at position startPos + t. */
    public void rope(long x, int tokens, int heads, int headDim, int nRot, int startPos, float freqBase) {
        new Args(rope).mem(x).i(heads).i(headDim).i(nRot).i(startPos).f(freqBase);
        runPadded(rope, headDim / 2, heads, tokens);
    }

    /** Softmax in place over the first firstLen + r / rowsPerStep entries of each row r of x [rows][stride]. */
    public void softmax(long x, int rows, int stride, int firstLen, int rowsPerStep) {
        int group = groupSize(softmax);
        new Args(softmax).mem(x).i(stride).i(firstLen).i(rowsPerStep).local(group * Float.BYTES);
        run(softmax, new long[] {(long) rows * group}, new long[] {group});
    }

    /**
     * Causal grouped-query attention of q [tokens][heads][headDim] (positions startPos..) over one
     * layer's caches k, v [context][kvHeads][headDim], which already hold these tokens; scores is scratch
     * of [tokens][heads][context] floats; out [tokens][heads][headDim].
     */
    public void attention(long q, long k, long v, long scores, long out, int tokens, int heads, int kvHeads,
                          int headDim, int context, int startPos) {
        float scale = (float) (1.0 / Math.sqrt(headDim));
        new Args(attentionScores).mem(q).mem(k).mem(scores).i(heads).i(kvHeads).i(headDim).i(context).i(startPos)
                .f(scale);
        runPadded(attentionScores, startPos + tokens, heads, tokens);
        softmax(scores, tokens * heads, context, startPos + 1, heads);
        new Args(attentionValues).mem(scores).mem(v).mem(out).i(heads).i(kvHeads).i(headDim).i(context).i(startPos);
        runPadded(attentionValues, headDim, heads, tokens);
    }

    /** gate[i] = silu(gate[i]) * up[i] for i < n. */
    public void swiglu(long gate, long up, int n) {
        new Args(swiglu).mem(gate).mem(up).i(n);
        runPadded(swiglu, n);
    }

    /** x[i] += y[i] for i < n. */
    public void add(long x, long y, int n) {
        new Args(add).mem(x).mem(y).i(n);
        runPadded(add, n);
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
     * several Mali/Adreno subgroups; the per-group sums of the matrix products need no more.
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
