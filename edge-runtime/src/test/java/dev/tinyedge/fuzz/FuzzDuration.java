package dev.tinyedge.fuzz;

/**
 * How long one fuzz test fuzzes when run with {@code JAZZER_FUZZ=1}; {@code bench/fuzz.sh MINUTES} passes its
 * own limit to libFuzzer instead. Without {@code JAZZER_FUZZ} the tests only replay their corpora.
 */
final class FuzzDuration {
    static final String DEFAULT = "5m";

    private FuzzDuration() {
    }
}
