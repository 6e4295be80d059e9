package dev.tinyedge.service;

import dev.tinyedge.translate.Language;
import dev.tinyedge.translate.Translation;

/**
 * The replies of protocol v1 (CONTRACTS §2), as the daemon sends them and the client reads them; their JSON
 * form is {@link ProtocolJson}'s. A request gets zero or more {@link Partial}s, then one final reply: a
 * {@link Result}, a {@link Failure} or {@link Busy}.
 */
public sealed interface Reply {
    /** The request's id; null for a request that had neither an id nor Correlation Data. */
    String id();

    /** A reply that ends the request: the daemon acknowledges the request once it is published. */
    sealed interface Final extends Reply permits Result, Failure, Busy {
    }

    /** The translation: {@code "status":"ok"}. */
    record Result(String id, String translation, String source, String target, String model, String node,
                  Tokens tokens, Timing timing) implements Final {

        /** The result of {@code request}, {@code queueMs} after it arrived and {@code totalMs} in all. */
        public static Result of(Request request, Translation translation, String model, String node, long queueMs,
                                long totalMs) {
            return new Result(request.id(), translation.text(),
                    request.source() == null ? Language.AUTO : request.source().code(), request.target().code(),
                    model, node, new Tokens(translation.promptTokens(), translation.generatedTokens()),
                    new Timing(queueMs, translation.prefillMs(), translation.decodeMs(), totalMs));
        }
    }

    /** {@code "tokens"}: the prompt's length and the tokens generated. */
    record Tokens(int prompt, int generated) {
    }

    /** {@code "timing_ms"}: waiting in the queue, to the first token, after it, and from arrival to the result. */
    record Timing(long queue, long prefill, long decode, long total) {
    }

    /** A piece of a streamed translation: {@code "status":"partial"}, {@code seq} counting from 0. */
    record Partial(String id, int seq, String delta) implements Reply {
    }

    /** {@code "status":"error"} with any code but {@code busy}. */
    record Failure(String id, ErrorCode code, String message) implements Final {
        public Failure {
            if (code == ErrorCode.BUSY) {
                throw new IllegalArgumentException("a busy reply is a Busy");
            }
        }
    }

    /** {@code "status":"error"} with code {@code busy}: the request was not taken; try again after a while. */
    record Busy(String id, String message, long retryAfterMs) implements Final {
    }
}
