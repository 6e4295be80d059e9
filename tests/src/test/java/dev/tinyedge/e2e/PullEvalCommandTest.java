package dev.tinyedge.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.hub.HubStandIn;
import dev.tinyedge.translate.EngineTranslator;
import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.TinyModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's model section as a user runs it, against the loopback hub stand-in (HF_ENDPOINT) serving the
 * synthetic tiny model under the catalog's TinyLlama repository and file name: {@code tinyedge pull NAME},
 * {@code tinyedge models}, {@code tinyedge eval --model NAME}, and pull's one-line errors.
 */
class PullEvalCommandTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final String REPO = "TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF";
    private static final String FILE = "tinyllama-1.1b-chat-v1.0.Q4_0.gguf";

    @TempDir
    Path dir;
    private HubStandIn hub;

    private record Run(int exit, String out, String err) {
    }

    @BeforeEach
    void startHub() throws Exception {
        hub = new HubStandIn();
        hub.repo(REPO).files.put(FILE, Files.readAllBytes(TinyModel.path()));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private Run tinyedge(String... args) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(ROOT.resolve("bin/tinyedge").toString());
        builder.command().addAll(List.of(args));
        builder.environment().put("HF_ENDPOINT", hub.endpoint());
        builder.environment().put("TINYEDGE_MODELS", dir.resolve("models").toString());
        builder.environment().remove("HF_TOKEN");
        Process p = builder.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "tinyedge " + String.join(" ", args) + " hung");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void pullsACatalogNameListsItAndEvaluatesItByName() throws Exception {
        Run pull = tinyedge("pull", "tinyllama-1.1b-chat");
        assertEquals(0, pull.exit(), pull.err());
        Path file = dir.resolve("models").resolve(FILE);
        assertEquals(file.toString(), pull.out().strip());
        assertEquals(HubStandIn.sha256(Files.readAllBytes(TinyModel.path())), HubStandIn.sha256(Files.readAllBytes(file)));
        assertTrue(pull.err().contains("SHA-256 verified"), pull.err());

        Run models = tinyedge("models", "--json", "--profile", "raspberry-pi-5-8gb");
        assertEquals(0, models.exit(), models.err());
        JsonNode listed = new ObjectMapper().readTree(models.out()).get("models");
        assertEquals(1, listed.size(), models.out());
        JsonNode row = listed.get(0);
        assertEquals(FILE, row.get("file").asText());
        assertEquals("tinyllama-1.1b-chat", row.get("catalog_name").asText());
        assertEquals("llama", row.get("family").asText());
        assertEquals("Q4_0", row.get("quant").asText());
        assertTrue(row.get("runs").asBoolean());
        assertTrue(row.get("fits").asBoolean(), row.toString());
        assertEquals("raspberry-pi-5-8gb", row.get("profile").asText());

        List<String> sources = List.of("Where is the train station?", "The museum opens at nine.", "Thank you very much.");
        List<String> references = List.of("¿Dónde está la estación de tren?", "El museo abre a las nueve.", "Muchas gracias.");
        Path pairs = dir.resolve("pairs.tsv");
        Files.writeString(pairs, String.join("\n", java.util.stream.IntStream.range(0, 3)
                .mapToObj(i -> sources.get(i) + "\t" + references.get(i)).toList()) + "\n\n");
        Run eval = tinyedge("eval", "--model", "tinyllama-1.1b-chat", "--pairs", pairs.toString(), "--from", "en",
                "--to", "es", "--json", "--max-tokens", "8", "--threads", "1");
        assertEquals(0, eval.exit(), eval.err());
        JsonNode report = new ObjectMapper().readTree(eval.out());
        assertEquals(3, report.get("pairs").asInt());
        assertEquals(3, report.get("sentences").size());
        assertTrue(report.get("generated_tokens_per_s").asDouble() > 0, eval.out());
        // the daemon's prompt path: the same translator gives the same hypotheses
        try (EngineTranslator translator = EngineTranslator.load(file, new EngineOptions(0, 1, "cpu"), true)) {
            for (int i = 0; i < 3; i++) {
                JsonNode sentence = report.get("sentences").get(i);
                assertEquals(sources.get(i), sentence.get("source").asText());
                assertEquals(references.get(i), sentence.get("reference").asText());
                assertEquals(translator.translate(sources.get(i), Language.of("en").orElseThrow(),
                        Language.of("es").orElseThrow(), 8, t -> { }, () -> false).text(),
                        sentence.get("hypothesis").asText());
            }
        }

        // scoring given translations: the references themselves score 100
        Path refs = dir.resolve("refs.txt");
        Files.writeString(refs, String.join("\n", references) + "\n");
        Run perfect = tinyedge("eval", "--hypotheses", refs.toString(), "--pairs", pairs.toString(), "--from", "en",
                "--to", "es");
        assertEquals(0, perfect.exit(), perfect.err());
        assertTrue(perfect.out().contains("chrF   100.00") && perfect.out().contains("chrF++ 100.00"), perfect.out());
    }

    @Test
    void failsWithOneLineThatSaysWhatToDo() throws Exception {
        Run noQuant = tinyedge("pull", REPO + ":Q5_K_M");
        assertEquals(1, noQuant.exit());
        assertEquals("tinyedge: error: " + REPO + " has no Q5_K_M GGUF; its quantizations: Q4_0", lastLine(noQuant.err()));

        hub.repo(REPO).gated = true;
        Run gated = tinyedge("pull", REPO);
        assertEquals(1, gated.exit());
        assertTrue(lastLine(gated.err()).startsWith("tinyedge: error: " + REPO + " is gated: accept its licence at "
                + hub.endpoint() + "/" + REPO + ", then set HF_TOKEN"), gated.err());

        Run bad = tinyedge("pull", "no repository");
        assertEquals(2, bad.exit());
        assertTrue(lastLine(bad.err()).startsWith("tinyedge: error: 'no repository' is neither a catalog name"), bad.err());

        Run notPulled = tinyedge("eval", "--model", "qwen3-0.6b", "--pairs", ROOT.resolve("pom.xml").toString(),
                "--from", "en", "--to", "es");
        assertEquals(2, notPulled.exit(), notPulled.err()); // the pairs file is checked first: pom.xml has no tabs
        assertTrue(lastLine(notPulled.err()).contains("no tab"), notPulled.err());

        for (Run run : List.of(noQuant, gated, bad, notPulled)) {
            assertEquals(1, run.err().lines().filter(l -> l.startsWith("tinyedge: error:")).count(), run.err());
            assertTrue(run.err().lines().noneMatch(l -> l.startsWith("\tat ")), "no stack trace: " + run.err());
        }
    }

    private static String lastLine(String text) {
        List<String> lines = text.lines().toList();
        return lines.getLast();
    }
}
