package dev.tinyedge.service;

import dev.tinyedge.translate.Language;

/**
 * A translation request: what the daemon's parser validated, or what a client sends.
 *
 * @param id        the request's id, or the hex of its Correlation Data when it has none; null when it has neither
 *                  (such a request cannot be deduplicated)
 * @param source    the source language, or null for {@code auto}
 * @param maxTokens the client's cap on generated tokens
 */
public record Request(String id, String text, Language target, Language source, boolean stream, int maxTokens) {

    /** The same request under {@code newId}: a client names the requests that have no id. */
    public Request withId(String newId) {
        return new Request(newId, text, target, source, stream, maxTokens);
    }
}
