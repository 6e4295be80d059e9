package dev.tinyedge.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Machine-readable output: one JSON document on stdout. */
final class Json {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    static void print(Object document) {
        try {
            System.out.println(MAPPER.writeValueAsString(document));
            System.out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write JSON: " + e.getMessage(), e);
        }
    }

    /** Rates rounded to two decimals: more digits than that are noise. */
    static double rate(double tokensPerSecond) {
        return Math.round(tokensPerSecond * 100) / 100.0;
    }
}
