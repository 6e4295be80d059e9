package dev.tinyedge.kernels.ffm;

import dev.tinyedge.kernels.BlockInput;
import dev.tinyedge.kernels.InputForm;
import dev.tinyedge.kernels.JavaKernels;
import dev.tinyedge.kernels.KernelProvider;
import dev.tinyedge.kernels.MatrixKernel;
import dev.tinyedge.kernels.ProductInput;
import dev.tinyedge.tensor.FloatTensor;
import dev.tinyedge.tensor.GgmlType;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.List;

/**
 * The native library's int8 kernels for one tier: Q4_0 and Q8_0 weights with the input rounded to Q8_0,
 * Q4_K, Q5_K and Q6_K with it rounded to Q8_K (llama.cpp's vec_dot_types), one downcall per thread's range
 * of rows, on the mapped weights and the Java arrays in place. Other types go to the Vector API kernels.
 */
public final class NativeKernels implements KernelProvider {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final java.lang.foreign.AddressLayout POINTER = ValueLayout.ADDRESS;
    private static final int Q8_0 = GgmlType.Q8_0.id;
    private static final int Q8_K = GgmlType.Q8_K.id;

    private final NativeLibrary library;
    private final NativeTier tier;
    private final MethodHandle quantize;
    private final MethodHandle matmul;
    private final MatrixKernel[] kernels = new MatrixKernel[GgmlType.values().length];

    private NativeKernels(NativeLibrary library, NativeTier tier) {
        this.library = library;
        this.tier = tier;
        this.quantize = library.criticalFunction("tek_" + tier.symbol() + "_quantize", FunctionDescriptor.ofVoid(
                INT, POINTER, LONG, POINTER, LONG, INT, INT));
        this.matmul = library.criticalFunction("tek_" + tier.symbol() + "_matmul", FunctionDescriptor.ofVoid(
                INT, POINTER, LONG, POINTER, LONG, INT, POINTER, LONG, INT, INT));
        for (GgmlType type : GgmlType.values()) {
            kernels[type.ordinal()] = switch (type) {
                case Q4_0, Q8_0 -> new Product(type, InputForm.Q8_0_BLOCKS);
                case Q4_K, Q5_K, Q6_K -> new Product(type, InputForm.Q8_K_BLOCKS);
                default -> JavaKernels.INSTANCE.kernel(type);
            };
        }
    }

    /** This CPU's best tier of the library for this platform, or {@code label}'s; throws saying why not. */
    static NativeKernels load(String label) throws IOException {
        return load(NativeLibrary.load(), label);
    }

    static NativeKernels load(NativeLibrary library, String label) {
        List<NativeTier> supported = NativeTier.of(library.supportedTiers());
        if (label == null) {
            if (supported.isEmpty()) {
                throw new IllegalStateException("this CPU has none of the native kernels' instruction sets (AVX2 with FMA and F16C on x86-64)");
            }
            return new NativeKernels(library, supported.getLast());
        }
        NativeTier tier = NativeTier.byLabel(label);
        if (!supported.contains(tier)) {
            throw new IllegalStateException("this CPU lacks the native " + tier.label + " tier's instructions (it runs: "
                    + NativeTier.labels(supported) + ")");
        }
        return new NativeKernels(library, tier);
    }

    /** The tiers of the library for this platform that this CPU runs (none when there is no library). */
    public static List<String> supportedTiers() {
        try {
            return NativeTier.of(NativeLibrary.load().supportedTiers()).stream().map(t -> t.label).toList();
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
    }

    public String tier() {
        return tier.label;
    }

    @Override
    public String description() {
        return "native " + tier.label;
    }

    @Override
    public MatrixKernel kernel(GgmlType type) {
        return kernels[type.ordinal()];
    }

    @Override
    public ProductInput newInput(int maxBatch, int maxCols) {
        return new ProductInput(maxBatch, maxCols, new Records(maxBatch, maxCols));
    }

    /** The batch's vectors rounded into the library's records, one off-heap buffer per form. */
    private final class Records implements BlockInput {
        private final MemorySegment q8_0;
        private final MemorySegment q8_K;
        private float[] x;
        private int cols;
        private long strideQ8_0;
        private long strideQ8_K;
        private boolean roundingQ8_0;
        private boolean roundingQ8_K;

        Records(int maxBatch, int maxCols) {
            Arena arena = Arena.ofAuto();
            q8_0 = arena.allocate(maxBatch * library.inputStride(Q8_0, maxCols), 64);
            q8_K = arena.allocate(maxBatch * library.inputStride(Q8_K, maxCols), 64);
        }

        @Override
        public void begin(float[] x, int batch, int cols, boolean q8_0, boolean q8_K) {
            this.x = x;
            this.cols = cols;
            this.roundingQ8_0 = q8_0;
            this.roundingQ8_K = q8_K;
            strideQ8_0 = q8_0 ? library.inputStride(Q8_0, cols) : 0;
            strideQ8_K = q8_K ? library.inputStride(Q8_K, cols) : 0;
        }

        @Override
        public void prepare(int from, int to) {
            try {
                if (roundingQ8_0) {
                    quantize.invokeExact(Q8_0, MemorySegment.ofArray(x), (long) cols, q8_0, strideQ8_0, from, to);
                }
                if (roundingQ8_K) {
                    quantize.invokeExact(Q8_K, MemorySegment.ofArray(x), (long) cols, q8_K, strideQ8_K, from, to);
                }
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }
    }

    /** Products with weights of one type, whose input the library rounds to {@code form}. */
    private final class Product implements MatrixKernel {
        private final int type;
        private final InputForm form;

        Product(GgmlType type, InputForm form) {
            this.type = type.id;
            this.form = form;
        }

        @Override
        public boolean compiledAtRunTime() {
            return false;
        }

        @Override
        public InputForm input() {
            return form;
        }

        @Override
        public void vectorRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rowStart, int rowEnd) {
            run(weights, (Records) in.blocks(), 1, out, outOffset, 0, rowStart, rowEnd);
        }

        @Override
        public void batchRows(FloatTensor weights, ProductInput in, float[] out, int outOffset, int rows, int rowStart,
                              int rowEnd, float[] scratch) {
            run(weights, (Records) in.blocks(), in.vectors().batch(), out, outOffset, rows, rowStart, rowEnd);
        }

        private void run(FloatTensor weights, Records records, int batch, float[] out, int outOffset, int rows,
                         int rowStart, int rowEnd) {
            boolean k = form == InputForm.Q8_K_BLOCKS;
            MemorySegment input = k ? records.q8_K : records.q8_0;
            try {
                matmul.invokeExact(type, weights.data(), (long) records.cols, input,
                        k ? records.strideQ8_K : records.strideQ8_0, batch,
                        MemorySegment.ofArray(out).asSlice((long) outOffset * Float.BYTES), (long) rows, rowStart, rowEnd);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
