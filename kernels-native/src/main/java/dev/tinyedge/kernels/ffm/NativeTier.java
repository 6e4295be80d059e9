package dev.tinyedge.kernels.ffm;

import java.util.ArrayList;
import java.util.List;

/** The library's tiers, best last per architecture; the numbers are tek_supported_tiers' bits (cpu.c). */
public enum NativeTier {
    AVX2(0, "avx2", "x86-64"),
    AVX2_VNNI(1, "avx2-vnni", "x86-64"),
    AVX512_VNNI(2, "avx512-vnni", "x86-64"),
    NEON(3, "neon", "aarch64"),
    DOTPROD(4, "dotprod", "aarch64"),
    I8MM(5, "i8mm", "aarch64");

    final int bit;
    /** As -Dtinyedge.kernels=native:NAME takes it and the log shows it. */
    public final String label;
    final String architecture;

    NativeTier(int bit, String label, String architecture) {
        this.bit = bit;
        this.label = label;
        this.architecture = architecture;
    }

    /** The part of the library's symbol names that names this tier: tek_SYMBOL_matmul. */
    String symbol() {
        return name().toLowerCase();
    }

    static NativeTier byLabel(String label) {
        for (NativeTier tier : values()) {
            if (tier.label.equals(label)) {
                return tier;
            }
        }
        throw new IllegalArgumentException("no native kernel tier '" + label + "' (tiers: " + labels(List.of(values())) + ")");
    }

    /** The tiers whose bits are set in {@code mask}. */
    static List<NativeTier> of(int mask) {
        List<NativeTier> tiers = new ArrayList<>();
        for (NativeTier tier : values()) {
            if ((mask & (1 << tier.bit)) != 0) {
                tiers.add(tier);
            }
        }
        return tiers;
    }

    static String labels(List<NativeTier> tiers) {
        return tiers.isEmpty() ? "none" : String.join(", ", tiers.stream().map(t -> t.label).toList());
    }
}
