package dev.tinyedge.service;

import dev.tinyedge.translate.Language;

/**
 * A validated translation request.
 *
 * @param id        the request's id, or the hex of its Correlation Data when it has none; null when it has neither
 *                  (such a request cannot be deduplicated)
 * @param source    the source language, or null for {@code auto}
 * @param maxTokens the client's cap on generated tokens
 */
public record Request(String id, String text, Language target, Language source, boolean stream, int maxTokens) {
}
