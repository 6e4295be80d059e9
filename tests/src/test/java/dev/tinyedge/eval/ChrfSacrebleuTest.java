package dev.tinyedge.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * tinyedge's chrF and chrF++ against sacreBLEU 2.6.0 itself (run in the repository's .venv, which
 * tests/run.sh provides) on 40 generated sentence sets: accented, CJK and astral-plane text, combining marks,
 * the whitespace Python splits on and Java's {@code isWhitespace} does not (no-break spaces, U+3000),
 * punctuation at word edges, empty hypotheses and references, copies and unrelated sentences. Corpus scores
 * and every sentence score must agree far beyond the 4 decimals the issue asks for.
 */
class ChrfSacrebleuTest {
    static final Path ROOT = Path.of("").toAbsolutePath().getParent();
    private static final Path WORK = ROOT.resolve("tests/target/chrf");
    private static final int SETS = 40;
    private static final double TOLERANCE = 1e-9;

    private static final String[] WORDS = {
            "the", "station", "where", "is", "train", "Bahnhof", "estación", "¿Dónde", "está", "gare", "où",
            "naïve", "façade", "Straße", "größer", "über", "東京", "駅", "はどこですか", "станция", "где",
            "محطة", "çà", "e\u0301te\u0301", "😀", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "a", "I", "x", "—", "«mot»", "l'été", "don't",
            "(hi)", "!!", "...", "U.S.A.", "3.14", "#tag", "@user", "e-mail", "_x_", "{json}", "50%",
    };
    private static final String[] PUNCTUATION = {".", ",", "!", "?", ";", ":", "\"", "'", "(", ")", "-", "¿", "¡", "…", "。"};
    private static final String[] SPACES = {" ", " ", " ", "  ", "\t", "\u00a0", "\u3000", "\u2009", "\u202f", "\u200b"};

    @Test
    void scoresAsSacrebleuDoes() throws Exception {
        Random random = new Random(20261203);
        List<Map<String, List<String>>> sets = new ArrayList<>();
        for (int s = 0; s < SETS; s++) {
            int size = s == 0 ? 1 : 1 + random.nextInt(12);
            List<String> hyps = new ArrayList<>();
            List<String> refs = new ArrayList<>();
            for (int i = 0; i < size; i++) {
                String reference = sentence(random);
                String hypothesis = switch (random.nextInt(8)) {
                    case 0 -> "";                               // the model said nothing
                    case 1 -> reference;                        // perfect
                    case 2 -> sentence(random);                 // unrelated
                    default -> edit(reference, random);          // close
                };
                if (random.nextInt(15) == 0) {
                    reference = "";                             // a pair without reference text
                }
                hyps.add(hypothesis);
                refs.add(reference);
            }
            if (s == 1) { // every hypothesis empty
                hyps.replaceAll(h -> "");
            }
            Map<String, List<String>> set = new LinkedHashMap<>();
            set.put("hypotheses", hyps);
            set.put("references", refs);
            sets.add(set);
        }
        Files.createDirectories(WORK);
        Path in = WORK.resolve("sets.json");
        Path out = WORK.resolve("sacrebleu.json");
        ObjectMapper json = new ObjectMapper();
        json.writeValue(in.toFile(), sets);
        run(python(), ROOT.resolve("tests/python/chrf_sacrebleu.py").toString(), in.toString(), out.toString());
        JsonNode expected = json.readTree(out.toFile());
        assertEquals(SETS, expected.size());

        int sentences = 0;
        for (int s = 0; s < SETS; s++) {
            List<String> hyps = sets.get(s).get("hypotheses");
            List<String> refs = sets.get(s).get("references");
            JsonNode want = expected.get(s);
            assertEquals(want.get("chrf").asDouble(), Chrf.chrF().corpusScore(hyps, refs), TOLERANCE, "chrF, set " + s);
            assertEquals(want.get("chrf_pp").asDouble(), Chrf.chrFPlusPlus().corpusScore(hyps, refs), TOLERANCE,
                    "chrF++, set " + s);
            for (int i = 0; i < hyps.size(); i++, sentences++) {
                assertEquals(want.get("sentence_chrf").get(i).asDouble(), Chrf.chrF().sentenceScore(hyps.get(i), refs.get(i)),
                        TOLERANCE, "sentence " + i + " of set " + s + ": " + hyps.get(i) + " | " + refs.get(i));
            }
        }
        assertTrue(sentences > 150, "sentences compared: " + sentences);
    }

    private static String sentence(Random random) {
        StringBuilder sb = new StringBuilder();
        if (random.nextInt(6) == 0) {
            sb.append(SPACES[random.nextInt(SPACES.length)]); // leading whitespace
        }
        int words = 1 + random.nextInt(12);
        for (int w = 0; w < words; w++) {
            if (w > 0) {
                sb.append(SPACES[random.nextInt(SPACES.length)]);
            }
            if (random.nextInt(8) == 0) {
                sb.append(PUNCTUATION[random.nextInt(PUNCTUATION.length)]);
            }
            sb.append(WORDS[random.nextInt(WORDS.length)]);
            if (random.nextInt(4) == 0) {
                sb.append(PUNCTUATION[random.nextInt(PUNCTUATION.length)]);
            }
        }
        return sb.toString();
    }

    /** A near miss: a few words dropped, swapped or replaced, punctuation moved. */
    private static String edit(String sentence, Random random) {
        List<String> words = new ArrayList<>(List.of(sentence.split(" ")));
        int edits = 1 + random.nextInt(3);
        for (int e = 0; e < edits && !words.isEmpty(); e++) {
            int i = random.nextInt(words.size());
            switch (random.nextInt(4)) {
                case 0 -> words.remove(i);
                case 1 -> words.set(i, WORDS[random.nextInt(WORDS.length)]);
                case 2 -> words.add(i, PUNCTUATION[random.nextInt(PUNCTUATION.length)]);
                default -> words.set(i, words.get(i).toUpperCase(java.util.Locale.ROOT));
            }
        }
        return String.join(" ", words);
    }

    /** The repository's .venv python with sacrebleu 2.6.0 (tests/run.sh installs it; installed here if missing). */
    static String python() throws IOException, InterruptedException {
        String configured = System.getenv("TINYEDGE_PYTHON");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        Path venv = ROOT.resolve(".venv");
        Path python = venv.resolve("bin/python");
        if (!Files.isExecutable(python)) {
            run("python3", "-m", "venv", venv.toString());
        }
        if (!succeeds(python.toString(), "-c", "import sacrebleu; assert sacrebleu.__version__ == '2.6.0'")) {
            run(python.toString(), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--retries", "0",
                    "sacrebleu==2.6.0");
        }
        return python.toString();
    }

    private static boolean succeeds(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor() == 0;
    }

    private static void run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + output);
        }
    }
}
