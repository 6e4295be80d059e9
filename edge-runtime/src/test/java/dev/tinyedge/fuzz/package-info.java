/**
 * Coverage-guided fuzz targets (Jazzer {@code @FuzzTest}) for every parser of outside input: GGUF files and the
 * engine over what the reader accepts ({@link dev.tinyedge.fuzz.GgufFuzzTest}), the tokenizers
 * ({@link dev.tinyedge.fuzz.TokenizerFuzzTest}), MQTT request payloads
 * ({@link dev.tinyedge.fuzz.RequestParserFuzzTest}), the daemon's configuration and the board profiles
 * ({@link dev.tinyedge.fuzz.ConfigFuzzTest}).
 *
 * <p>Each target's corpus lives in {@code src/test/resources/dev/tinyedge/fuzz/CLASSInputs/METHOD}: seeds,
 * inputs the fuzzer found interesting, and the reproducer of every finding. A normal test run replays them
 * (Jazzer's regression mode, seconds); {@code bench/fuzz.sh MINUTES} fuzzes each target for real.
 *
 * <p>A new input surface gets its target here, as a class next to these with one {@code @FuzzTest} per parser and
 * an entry in {@code bench/fuzz.sh}'s list: the hub's model listing and response headers in {@code pull}, and the
 * sentence-pair reader of {@code eval}, are the next ones. A new tokenizer is one more entry in
 * {@link dev.tinyedge.fuzz.TokenizerFuzzTest}'s list of vocabularies.
 */
package dev.tinyedge.fuzz;
