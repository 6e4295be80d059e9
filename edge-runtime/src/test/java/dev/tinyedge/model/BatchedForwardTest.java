package dev.tinyedge.model;

import dev.tinyedge.backend.Batch;
import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.reference.TestModels;
import dev.tinyedge.tensor.GgmlType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;

import static dev.tinyedge.model.ForwardPassTest.assertLogitsClose;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Continuous batching in the forward pass: sequences in several KV-cache slots evaluated in one step get the
 * logits each gets alone, a slot's prefix copied into another is what evaluating it there gives, and the fp16 KV
 * cache stays within fp16 rounding of the float one.
 */
class BatchedForwardTest {
    /**
     * Alone, a decoded token's products take the single-vector kernels; in a step, the batched ones: float sums in
     * another order (f32 weights; measured ~1e-6). An fp16 KV cache rounds keys, values, queries and attention weights
     * to fp16 (as ggml does), and float noise can put one of them a whole fp16 step away (measured up to 5.8e-4). Gemma's GELU rounds its input to fp16 likewise (see
     * FamiliesForwardTest.GELU_TOLERANCE): measured up to 2.8e-4 here, in one slot as in four. A token attending to
     * another sequence's positions moves logits by a good part of themselves.
     */
    private static final double KERNEL_TOLERANCE = 1e-5;
    private static final double HALF_KERNEL_TOLERANCE = 3e-3;
    private static final double GELU_TOLERANCE = 2e-3;
    /**
     * Keys and values rounded to fp16 (11 significant bits) move attention outputs by ~1e-3 of themselves; through
     * these small random models the logits move by up to a few 1e-3 of the largest.
     */
    private static final double HALF_CACHE_TOLERANCE = 2e-2;
    private static final int CONTEXT = 80;

    @TempDir
    static Path dir;
    private static GgufFile llama;
    private static GgufFile gemma;
    private static WorkerPool pool;

    @BeforeAll
    static void writeModels() throws Exception {
        llama = GgufFile.open(TestModels.write(dir, TestModels.SMALL, GgmlType.F32, 21));
        gemma = GgufFile.open(TestModels.write(dir, SyntheticModel.TINY_GEMMA3, GgmlType.F32, 22));
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void close() {
        llama.close();
        gemma.close();
        pool.close();
    }

    private static ModelWeights model(String family) throws Exception {
        return ModelWeights.load(family.equals("gemma") ? gemma : llama);
    }

    private static double tolerance(String family, boolean half) {
        return family.equals("gemma") ? GELU_TOLERANCE : half ? HALF_KERNEL_TOLERANCE : KERNEL_TOLERANCE;
    }

    private static int[] tokens(ModelWeights model, int n, long seed) {
        return new SplittableRandom(seed).ints(n, 0, model.config().vocabSize()).toArray();
    }

    /** The logits of the last of {@code tokens} evaluated one at a time in a pass of its own. */
    private static float[] alone(ModelWeights model, boolean half, int[] tokens) {
        ForwardPass forward = new ForwardPass(model, CONTEXT, 1, half, pool);
        float[] logits = null;
        for (int pos = 0; pos < tokens.length; pos++) {
            logits = forward.forward(new int[] {tokens[pos]}, 1, pos);
        }
        return logits.clone();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * Three sequences with prompts of different lengths (one longer than a batch, one longer than Gemma's window)
     * decode side by side for several steps; a fourth is admitted halfway with a chunk of its prompt in the same
     * steps. Every sequence's logits equal those of the same tokens evaluated alone.
     */
    @ParameterizedTest
    @CsvSource({"llama, false", "gemma, false", "llama, true", "gemma, true"})
    void eachSequenceOfAStepGetsTheLogitsItGetsAlone(String family, boolean half) throws Exception {
        ModelWeights model = model(family);
        ForwardPass forward = new ForwardPass(model, CONTEXT, 4, half, pool);
        int vocabulary = model.config().vocabSize();
        int[][] sequences = {tokens(model, 5, 1), tokens(model, 70, 2), tokens(model, 17, 3), new int[0]};
        int[] late = tokens(model, 12, 4);
        for (int slot = 0; slot < 3; slot++) {
            forward.forward(slot, sequences[slot], sequences[slot].length, 0);
        }
        Batch step = new Batch(forward.maxBatch(), 4);
        int[] decoded = tokens(model, 8 * 4, 5);
        for (int s = 0; s < 8; s++) {
            step.clear();
            for (int slot = 0; slot < 3; slot++) {
                step.add(slot, decoded, s * 4 + slot, 1, sequences[slot].length);
            }
            int chunk = 0;
            if (s >= 3 && sequences[3].length < late.length) {
                chunk = Math.min(5, late.length - sequences[3].length);
                step.add(3, late, sequences[3].length, chunk, sequences[3].length);
            } else if (sequences[3].length == late.length) {
                step.add(3, decoded, s * 4 + 3, 1, sequences[3].length);
                chunk = 1;
            }
            float[] logits = forward.forward(step);
            for (int slot = 0; slot < 3; slot++) {
                sequences[slot] = concat(sequences[slot], new int[] {decoded[s * 4 + slot]});
            }
            if (chunk > 0) {
                sequences[3] = concat(sequences[3], sequences[3].length < late.length
                        ? Arrays.copyOfRange(late, sequences[3].length, sequences[3].length + chunk)
                        : new int[] {decoded[s * 4 + 3]});
            }
            for (int segment = 0; segment < step.segments(); segment++) {
                int slot = step.slot(segment);
                assertLogitsClose(alone(model, half, sequences[slot]),
                        Arrays.copyOfRange(logits, segment * vocabulary, (segment + 1) * vocabulary), tolerance(family, half),
                        family + (half ? " f16" : " f32") + " step " + s + " slot " + slot);
            }
        }
        assertTrue(sequences[3].length > late.length, "the late sequence was admitted and decoded");
    }

    /** A prefix copied from one slot into another continues as if it had been evaluated there. */
    @ParameterizedTest
    @CsvSource({"llama, false", "gemma, false", "gemma, true"})
    void aCopiedPrefixContinuesAsIfEvaluatedInPlace(String family, boolean half) throws Exception {
        ModelWeights model = model(family);
        ForwardPass forward = new ForwardPass(model, CONTEXT, 2, half, pool);
        int[] prefix = tokens(model, 30, 6);     // beyond Gemma's window of 8: its ring is copied
        int[] rest = tokens(model, 4, 7);
        forward.forward(0, concat(prefix, tokens(model, 9, 8)), 39, 0); // slot 0 went on past the prefix
        forward.forward(1, tokens(model, 50, 9), 50, 0);                 // slot 1 held something else
        forward.copyPrefix(0, 1, prefix.length);
        float[] continued = forward.forward(1, rest, rest.length, prefix.length).clone();
        float[] inPlace = new ForwardPass(model, CONTEXT, 1, half, pool).forward(concat(prefix, rest), 34, 0);
        assertLogitsClose(inPlace, continued, tolerance(family, half), family + " copied prefix");
    }

    @ParameterizedTest
    @CsvSource({"llama", "gemma"})
    void anFp16CacheStaysWithinItsRoundingOfTheFloatOne(String family) throws Exception {
        ModelWeights model = model(family);
        int[] tokens = tokens(model, 40, 10);
        assertLogitsClose(alone(model, false, tokens), alone(model, true, tokens), HALF_CACHE_TOLERANCE,
                family + " f16 vs f32 KV cache");
    }

    @Test
    void fp16StorageRoundsToNearestEven() {
        float[] values = {0f, 1f, -2.5f, 65504f, 1e-8f, 1.00048828125f, 1.0009765625f, Float.NaN};
        short[] half = new short[values.length];
        ForwardPass.toHalf(values, 0, half, 0, values.length);
        for (int i = 0; i < values.length; i++) {
            float back = Float.float16ToFloat(half[i]);
            assertTrue(Float.isNaN(values[i]) ? Float.isNaN(back)
                    : back == Float.float16ToFloat(Float.floatToFloat16(values[i])), "value " + values[i]);
        }
        assertTrue(Float.float16ToFloat(half[5]) == 1f, "a tie rounds to the even neighbour");
    }

    @Test
    void aStepRefusesWhatItCannotHold() throws Exception {
        ModelWeights model = model("llama");
        ForwardPass forward = new ForwardPass(model, CONTEXT, 2, false, pool);
        Batch step = new Batch(forward.maxBatch(), 3);
        step.add(0, new int[] {1}, 0, 1, 0);
        step.add(1, new int[] {1}, 0, 1, 0);
        step.add(2, new int[] {1}, 0, 1, 0);
        assertThrows(IllegalArgumentException.class, () -> forward.forward(step), "slot 2 of 2");
        Batch twice = new Batch(forward.maxBatch(), 2);
        twice.add(0, new int[] {1}, 0, 1, 0);
        assertThrows(IllegalArgumentException.class, () -> twice.add(0, new int[] {2}, 0, 1, 1));
        Batch past = new Batch(forward.maxBatch(), 1);
        past.add(0, new int[] {1}, 0, 1, CONTEXT);
        assertThrows(IllegalArgumentException.class, () -> forward.forward(past));
    }
}
