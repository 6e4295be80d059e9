package dev.tinyedge.cli;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;

/** Machine-readable output: one JSON document on stdout. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    /** Writes the document as UTF-8 bytes, whatever the platform's console encoding. */
    static void print(Object document) {
        try {
            System.out.write(MAPPER.writeValueAsBytes(document));
            System.out.write('\n');
            System.out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** Rates rounded to two decimals: more digits than that are noise. */
    static double rate(double tokensPerSecond) {
        return Math.round(tokensPerSecond * 100) / 100.0;
    }
}
