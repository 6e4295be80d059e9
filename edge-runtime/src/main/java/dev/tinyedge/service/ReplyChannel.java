package dev.tinyedge.service;

/** Where the service sends replies; the MQTT daemon publishes them. */
public interface ReplyChannel {
    /** A streamed partial: no acknowledgement follows. */
    void partial(Delivery delivery, Reply.Partial reply);

    /** The final reply (result, failure or busy): the request is acknowledged once the broker has it. */
    void complete(Delivery delivery, Reply.Final reply);
}
