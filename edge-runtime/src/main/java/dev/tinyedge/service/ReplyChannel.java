package dev.tinyedge.service;

/** Where the service sends replies; the MQTT daemon publishes them. */
public interface ReplyChannel {
    /**
     * A streamed partial: no acknowledgement follows. Called on the thread that steps every running generation,
     * so it must not wait: false when it cannot take the partial now (the broker's in-flight window is full), and
     * the caller sends that text with its next partial.
     */
    boolean partial(Delivery delivery, Reply.Partial reply);

    /** The final reply (result, failure or busy): the request is acknowledged once the broker has it. */
    void complete(Delivery delivery, Reply.Final reply);
}
