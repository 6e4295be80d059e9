package dev.tinyedge.translate;

/**
 * A finished (or stopped) translation.
 *
 * @param promptTokens    tokens of the whole prompt, the cached prefix included
 * @param prefilledTokens the prompt tokens that had to be evaluated for this request (the rest came from the cache)
 * @param prefillMs       time to the first generated token
 * @param stopped         true when the caller's stop condition ended generation early
 */
public record Translation(String text, int promptTokens, int prefilledTokens, int generatedTokens,
                          long prefillMs, long decodeMs, boolean stopped) {
}
