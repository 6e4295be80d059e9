package dev.tinyedge.translate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {
    @Test
    void holdsBackAPossibleMarkerUntilItIsDecided() {
        StopStrings stops = new StopStrings(List.of("<|user|>"));
        assertEquals("Hola", stops.add("Hola"));
        assertEquals(" ", stops.add(" <|"));
        assertEquals("<|x", stops.add("x"));
        assertFalse(stops.hit());
        assertEquals(" ", stops.add(" <|us"));
        assertEquals("", stops.add("er|> more"));
        assertTrue(stops.hit());
        assertEquals("Hola <|x ", stops.text());
    }

    @Test
    void cutsAMarkerInsideOnePiece() {
        StopStrings stops = new StopStrings(List.of("</s>", "\n\n"));
        assertEquals("Bonjour", stops.add("Bonjour</s>junk"));
        assertTrue(stops.hit());
    }

    @Test
    void releasesTheHeldTextAtTheEnd() {
        StopStrings stops = new StopStrings(List.of("\n\n"));
        assertEquals("Hallo", stops.add("Hallo\n"));
        assertEquals("\n", stops.flush());
        assertEquals("Hallo\n", stops.text());
    }
}
