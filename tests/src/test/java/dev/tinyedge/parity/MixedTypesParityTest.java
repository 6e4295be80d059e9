package dev.tinyedge.parity;

import dev.tinyedge.cli.Main;
import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.gguf.GgufTensorInfo;
import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.parity.LlamaCpp.NextTokens;
import dev.tinyedge.parity.LlamaCpp.TopToken;
import dev.tinyedge.quantize.QuantMix;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.SynthVocabulary;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * tinyedge against llama.cpp on models that mix tensor types the way real downloads do (Q4_K_M: Q4_K with
 * Q6_K layers and output head, F32 norms) and on the other types tinyedge reads. The models have rows 256
 * wide so the K-quants apply (the tiny preset's 64-wide rows would fall back to Q5_0/Q8_0), the Llama-2
 * vocabulary, and random weights.
 *
 * <p>Bounds as in {@link ParityTest}: llama.cpp quantizes the activations to 8 bits before its integer dot
 * products (Q8_K blocks of 256 for the K-quants, Q8_0 for the 32-blocks), about 0.6% relative noise per
 * product, which gives logit-difference gaps of 0.1–0.2; for BF16 weights it rounds the activations to BF16
 * (2^-9 relative). Measured (the models are fixed by their seed): Q4_K_M 0.10, Q5_K_M 0.07, Q6_K 0.10,
 * Q4_K 0.08, Q5_K 0.08, Q4_1 0.06, Q5_0 0.09, Q5_1 0.12, BF16 0.024; the bounds are about twice that.
 * The forward pass itself is checked much tighter in edge-runtime's MixedTypesForwardTest.
 */
class MixedTypesParityTest {
    private static final SyntheticModel.Preset SHAPE = new SyntheticModel.Preset("k256",
            new ModelConfig(32000, 256, 512, 8, 4, 2, 256, 1e-5f, 10000f), true);
    private static final List<String> PROMPTS = List.of(
            "Hello world",
            "Translate to Spanish: Where is the train station?\n",
            "1, 2, 3, 4, 5,");
    private static final int TOP = 10;

    @TempDir
    static Path models;

    private static LlamaCpp llamaCpp;

    @BeforeAll
    static void findLlamaCpp() {
        llamaCpp = LlamaCpp.installed();
    }

    private static Path synth(QuantMix mix) throws IOException {
        Path out = models.resolve("k256-" + mix.cliName + ".gguf");
        GgufWriter writer = SyntheticModel.writer(SHAPE, mix, false, 7);
        SynthVocabulary.load().writeTo(writer);
        writer.write(out);
        return out;
    }

    @ParameterizedTest(name = "{0}, bound {1}")
    @CsvSource({
            "q4_k_m, 0.2",
            "q5_k_m, 0.15",
            "q6_k, 0.2",
            "q4_k, 0.2",
            "q5_k, 0.15",
            "q4_1, 0.15",
            "q5_0, 0.2",
            "q5_1, 0.25",
            "bf16, 0.05"})
    void nextTokenLogitsMatchLlamaCpp(String type, double bound) throws IOException, GgufFormatException {
        QuantMix mix = QuantMix.parse(type);
        Path model = synth(mix);
        assertEquals(expectedTypes(mix), typesIn(model), "tensor types of the " + type + " model");
        assertLogitsMatch(model, bound);
    }

    /** What each mixture puts in the file, from llama.cpp's rules for 8 layers (use_more_bits: 0, 3, 6, 7). */
    private static Set<GgmlType> expectedTypes(QuantMix mix) {
        return switch (mix) {
            case Q4_K_M -> EnumSet.of(GgmlType.F32, GgmlType.Q4_K, GgmlType.Q6_K);
            case Q5_K_M -> EnumSet.of(GgmlType.F32, GgmlType.Q5_K, GgmlType.Q6_K);
            case Q4_1, Q5_0, Q5_1 -> EnumSet.of(GgmlType.F32, mix.baseType, GgmlType.Q6_K);
            default -> EnumSet.of(GgmlType.F32, mix.baseType);
        };
    }

    /** A model written by {@code tinyedge quantize} from F32 loads in llama.cpp and gives the same logits. */
    @Test
    void quantizedFilesRunInLlamaCpp() throws IOException, GgufFormatException {
        Path f32 = synth(QuantMix.F32);
        Path out = models.resolve("k256-quantized-q4_k_m.gguf");
        assertEquals(0, Main.run("quantize", f32.toString(), out.toString(), "--type", "q4_k_m"));
        assertEquals(EnumSet.of(GgmlType.F32, GgmlType.Q4_K, GgmlType.Q6_K), typesIn(out));
        assertLogitsMatch(out, 0.2);
    }

    private static Set<GgmlType> typesIn(Path model) throws IOException, GgufFormatException {
        try (GgufFile file = GgufFile.open(model)) {
            Set<GgmlType> types = EnumSet.noneOf(GgmlType.class);
            file.tensors().stream().map(GgufTensorInfo::type).forEach(types::add);
            return types;
        }
    }

    private static void assertLogitsMatch(Path model, double bound) throws IOException, GgufFormatException {
        List<Executable> checks = new ArrayList<>();
        double largestGap = 0;
        List<NextTokens> llamaCppResults = llamaCpp.nextTokens(model, PROMPTS, TOP);
        try (Engine engine = Engine.load(model, new EngineOptions(0, 1, "cpu"))) {
            for (int p = 0; p < PROMPTS.size(); p++) {
                String prompt = PROMPTS.get(p);
                NextTokens expected = llamaCppResults.get(p);
                int[] tokens = expected.promptTokens();
                float[] logits = engine.forward(tokens, tokens.length, 0).clone();
                TopToken best = expected.top().getFirst();
                for (TopToken t : expected.top()) {
                    double want = t.lnp() - best.lnp();
                    double got = (double) logits[t.id()] - logits[best.id()];
                    largestGap = Math.max(largestGap, Math.abs(got - want));
                    checks.add(() -> assertEquals(want, got, bound,
                            () -> "logit(%d) - logit(%d) after \"%s\"".formatted(t.id(), best.id(), prompt)));
                }
            }
        }
        System.out.printf("parity %s: largest logit-difference gap to llama.cpp %.2e (bound %.2f)%n",
                model.getFileName(), largestGap, bound);
        assertAll(checks);
        Files.delete(model);
    }
}
