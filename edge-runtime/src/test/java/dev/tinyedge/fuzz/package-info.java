/**
 * Coverage-guided fuzz targets (Jazzer {@code @FuzzTest}) for every parser of outside input: GGUF files and the
 * engine over what the reader accepts ({@link dev.tinyedge.fuzz.GgufFuzzTest}), the tokenizers
 * ({@link dev.tinyedge.fuzz.TokenizerFuzzTest}), MQTT request payloads
 * ({@link dev.tinyedge.fuzz.RequestParserFuzzTest}), the daemon's configuration and the board profiles
 * ({@link dev.tinyedge.fuzz.ConfigFuzzTest}), the hub's file listing and response headers in {@code pull}
 * ({@link dev.tinyedge.fuzz.HubFuzzTest}) and the sentence pairs of {@code eval}
 * ({@link dev.tinyedge.fuzz.EvalPairsFuzzTest}).
 *
 * <p>Each target's corpus lives in {@code src/test/resources/dev/tinyedge/fuzz/CLASSInputs/METHOD}: seeds,
 * inputs the fuzzer found interesting, and the reproducer of every finding. A normal test run replays them
 * (Jazzer's regression mode, seconds); {@code bench/fuzz.sh MINUTES} fuzzes each target for real.
 *
 * <p>A new input surface gets its target here, as a class next to these with one {@code @FuzzTest} per parser and
 * an entry in {@code bench/fuzz.sh}'s list. A new tokenizer is one more entry in
 * {@link dev.tinyedge.fuzz.TokenizerFuzzTest}'s list of vocabularies.
 */
package dev.tinyedge.fuzz;
