package dev.tinyedge.metrics;

import dev.tinyedge.translate.Translation;

import java.util.function.IntSupplier;

/**
 * What the translation service tells the metrics about its requests. The service calls these at four points
 * (a request queued, a request answered without being queued, a queued request answered, a translation
 * done) and knows nothing else of metrics; {@link #NONE} when the endpoint is off.
 */
public interface RequestObserver {
    RequestObserver NONE = new RequestObserver() {
    };

    /** A request went into the queue. */
    default void accepted() {
    }

    /**
     * A request was answered at once, never queued: {@code outcome} is the error code ({@code bad_request},
     * {@code busy} ...), {@code repeat} for an id answered from the dedup window, {@code unroutable} for a
     * request with no reply topic.
     */
    default void rejected(String outcome) {
    }

    /** A queued request got its final reply ({@code ok} or an error code), {@code seconds} after it arrived. */
    default void answered(String outcome, double seconds) {
    }

    /** A translation finished; {@code queueSeconds} is how long it waited before it started. */
    default void translated(Translation translation, double queueSeconds) {
    }

    /** How to read the number of requests queued or running, whenever the metrics are scraped. */
    default void watchQueue(IntSupplier depth) {
    }
}
