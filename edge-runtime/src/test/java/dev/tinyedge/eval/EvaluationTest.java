package dev.tinyedge.eval;

import dev.tinyedge.translate.Language;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluationTest {
    private static final Language EN = Language.of("en").orElseThrow();
    private static final Language ES = Language.of("es").orElseThrow();
    // lines 1, 3 and 4 of a pairs file whose line 2 is blank
    private static final List<SentencePairs.Pair> PAIRS = List.of(
            new SentencePairs.Pair(1, "Good morning", "Buenos días"),
            new SentencePairs.Pair(3, "Thank you", "Gracias"),
            new SentencePairs.Pair(4, "Where is the station?", "¿Dónde está la estación?"));

    @Test
    void hypothesesOnePerPairAreScoredAgainstTheirPair() {
        Evaluation.Report report = Evaluation.score("given", PAIRS,
                List.of("Buenos días", "Gracias", "¿Dónde está la estación?"), EN, ES, 3);
        assertEquals(100.0, report.chrf(), 1e-9);
    }

    @Test
    void hypothesesAlignedWithThePairsFileSkipItsBlankLines() {
        Evaluation.Report report = Evaluation.score("given", PAIRS,
                List.of("Buenos días", "", "Gracias", "¿Dónde está la estación?"), EN, ES, 3);
        assertEquals(100.0, report.chrf(), 1e-9);
    }

    @Test
    void anyOtherCountIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Evaluation.score("given", PAIRS, List.of("Buenos días", "Gracias"), EN, ES, 3));
        assertTrue(e.getMessage().contains("one per pair or one per line"), e.getMessage());
    }
}
