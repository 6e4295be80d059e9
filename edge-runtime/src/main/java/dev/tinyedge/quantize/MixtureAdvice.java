package dev.tinyedge.quantize;

import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.tensor.GgmlType;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Warnings about a model's mixture of tensor types on a backend, for {@code tinyedge inspect}: matrices in
 * types the backend has no kernel for (a Q4_K_M file on OpenCL: its Q4_K and Q6_K matrices), and matrices
 * left unquantized, which cost a memory-bound decoder several times the bytes per token of Q4_0.
 */
public final class MixtureAdvice {
    /** The matrix types kernels-opencl uploads (its WeightLoader); everything else stays on the CPU. */
    public static final Set<GgmlType> OPENCL_TYPES = EnumSet.of(GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0);

    private MixtureAdvice() {
    }

    /**
     * One line per problem, empty when the mixture suits the backend.
     *
     * @param backend "cpu" or "opencl"
     */
    public static List<String> warnings(List<GgufTensorInfo> tensors, String backend) {
        List<String> warnings = new ArrayList<>();
        List<GgufTensorInfo> matrices = tensors.stream().filter(t -> t.shape().length >= 2).toList();
        if (backend.equals("opencl")) {
            Map<GgmlType, List<GgufTensorInfo>> unsupported = byType(matrices.stream()
                    .filter(t -> !OPENCL_TYPES.contains(t.type())).toList());
            if (!unsupported.isEmpty()) {
                warnings.add(count(unsupported) + " of " + matrices.size() + " matrices (" + describe(unsupported)
                        + ") have no OpenCL kernel (it runs " + names(OPENCL_TYPES) + "): requantize with "
                        + "'tinyedge quantize IN.gguf OUT.gguf --type q4_0 --pure' to run the whole model on the GPU");
            }
        }
        Map<GgmlType, List<GgufTensorInfo>> unquantized = byType(matrices.stream()
                .filter(t -> !t.type().isQuantized() && t.elementCount() >= 1 << 20).toList());
        if (!unquantized.isEmpty()) {
            int n = count(unquantized);
            warnings.add(n + (n == 1 ? " large matrix (" : " large matrices (") + describe(unquantized) + ") not quantized: "
                    + "each token reads 4-8x their Q4_0 size; 'tinyedge quantize --type q4_k_m' or '--type q4_0' shrinks them");
        }
        return warnings;
    }

    private static Map<GgmlType, List<GgufTensorInfo>> byType(List<GgufTensorInfo> tensors) {
        return tensors.stream().collect(Collectors.groupingBy(GgufTensorInfo::type, TreeMap::new, Collectors.toList()));
    }

    private static int count(Map<GgmlType, List<GgufTensorInfo>> byType) {
        return byType.values().stream().mapToInt(List::size).sum();
    }

    /** "12 Q6_K, 143 Q4_K, e.g. output.weight". */
    private static String describe(Map<GgmlType, List<GgufTensorInfo>> byType) {
        String counts = byType.entrySet().stream().map(e -> e.getValue().size() + " " + e.getKey())
                .collect(Collectors.joining(", "));
        return counts + ", e.g. " + byType.values().iterator().next().getFirst().name();
    }

    private static String names(Set<GgmlType> types) {
        return types.stream().map(GgmlType::name).collect(Collectors.joining(", "));
    }
}
