package dev.tinyedge.model;

import dev.tinyedge.backend.WorkerPool;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.reference.ScalarForward;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass on models that mix tensor types, against {@link ScalarForward} (double precision,
 * every weight read with getFloat). Rows are 256 wide so the K-quants apply; 8 layers so that Q4_K_M's
 * use_more_bits puts Q6_K in some of them. Both sides read the same weights: only float versus double
 * arithmetic and summation order differ.
 */
class MixedTypesForwardTest {
    private static final SyntheticModel.Preset SHAPE = new SyntheticModel.Preset("k256",
            new ModelConfig(300, 256, 512, 8, 4, 2, 80, 1e-5f, 10000f), true);
    /** Relative to the largest logit, as in ForwardPassTest (float against double through the layers). */
    private static final double LOGIT_TOLERANCE = 5e-6;

    @TempDir
    static Path dir;
    private static WorkerPool pool;

    @BeforeAll
    static void startPool() {
        pool = new WorkerPool(2);
    }

    @AfterAll
    static void stopPool() {
        pool.close();
    }

    @ParameterizedTest
    @EnumSource(names = {"Q4_K_M", "Q5_K_M", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "BF16"})
    void tokenByTokenAndBatchedMatchTheScalarReference(QuantMix mix) throws Exception {
        Path file = dir.resolve(mix.cliName + ".gguf");
        SyntheticModel.writer(SHAPE, mix, false, 5).write(file);
        try (GgufFile gguf = GgufFile.open(file)) {
            ModelWeights model = ModelWeights.load(gguf);
            int[] tokens = new SplittableRandom(1).ints(12, 0, SHAPE.config().vocabSize()).toArray();
            ScalarForward reference = new ScalarForward(model, 80);
            ForwardPass stepwise = new ForwardPass(model, 80, pool);
            float[] expected = null;
            for (int pos = 0; pos < tokens.length; pos++) {
                expected = reference.forward(tokens[pos], pos);
                assertClose(expected, stepwise.forward(new int[] {tokens[pos]}, 1, pos), mix + " position " + pos);
            }
            assertClose(expected, new ForwardPass(model, 80, pool).forward(tokens, tokens.length, 0), mix + " batched");
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        float largest = 0;
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            largest = Math.max(largest, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= LOGIT_TOLERANCE * largest, what + ": max logit difference " + worst + " exceeds "
                + LOGIT_TOLERANCE + " x " + largest);
    }
}
