package dev.tinyedge.parity;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import dev.tinyedge.parity.LlamaCpp.NextTokens;
import dev.tinyedge.parity.LlamaCpp.TopToken;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The user's path: {@code bin/tinyedge tokenize} and {@code bin/tinyedge logits} (CONTRACTS §1) print what llama.cpp
 * computes on the same file, with tinyedge tokenizing the text itself. ParityTest covers the engine in depth; this
 * checks that the commands put it together as the contract says.
 */
class CommandLineParityTest {

    /** {@code tinyedge logits} output: {@code {"top":[{"id":..,"logit":..},..]}}, largest first. */
    record Logits(List<Logit> top) {}

    record Logit(int id, double logit) {}

    private static final ObjectMapper JSON = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    private static LlamaCpp llamaCpp;
    private static Path model;

    @BeforeAll
    static void writeModel() throws IOException {
        llamaCpp = LlamaCpp.installed();
        model = TestModels.synthTiny("f32");
    }

    private static String tinyedge(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(LlamaCpp.repositoryRoot().resolve("bin/tinyedge").toString()));
        command.addAll(List.of(args));
        return Processes.stdout(command);
    }

    @Test
    void tokenizeCommandMatchesLlamaCpp() throws IOException {
        // plain text: "</s>" stays three ordinary tokens, as the contract requires for user text
        List<String> texts = List.of("Hello world!", "text with </s> inside", "こんにちは世界", "two  spaces\tand a tab\n");
        int[][] expected = llamaCpp.tokenize(model, texts, false);
        List<Executable> checks = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int[] want = expected[i];
            int[] got = JSON.readValue(tinyedge("tokenize", "--model", model.toString(), texts.get(i)), int[].class);
            String text = texts.get(i);
            checks.add(() -> assertArrayEquals(want, got, () -> "tinyedge tokenize " + text));
        }
        assertAll(checks);
    }

    @Test
    void logitsCommandMatchesLlamaCppOnF32() throws IOException {
        String prompt = "The capital of France is";
        NextTokens expected = llamaCpp.nextTokens(model, List.of(prompt), 10).getFirst();
        // twice llama.cpp's count, so that a near tie at the tenth place cannot push a token out of the comparison
        Logits got = JSON.readValue(tinyedge("logits", "--model", model.toString(), "--prompt", prompt, "--top", "20",
                "--threads", "1"), Logits.class);
        Map<Integer, Double> logitById = got.top().stream().collect(Collectors.toMap(Logit::id, Logit::logit));
        TopToken best = expected.top().getFirst();
        List<Executable> checks = new ArrayList<>();
        if (best.lnp() - expected.top().get(1).lnp() > 1e-3) {
            checks.add(() -> assertEquals(best.id(), got.top().getFirst().id(), "most likely next token"));
        }
        for (TopToken t : expected.top()) {
            checks.add(() -> {
                assertNotNull(logitById.get(t.id()), () -> "token " + t.id() + " missing from tinyedge's top 20");
                assertEquals(t.lnp() - best.lnp(), logitById.get(t.id()) - logitById.get(best.id()), 1e-3,
                        () -> "logit(%d) - logit(%d)".formatted(t.id(), best.id()));
            });
        }
        assertAll(checks);
    }
}
