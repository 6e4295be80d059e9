package dev.tinyedge.service;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** Where the service sends replies; the MQTT daemon publishes them. */
public interface ReplyChannel {
    /** A streamed partial: no acknowledgement follows. */
    void partial(Delivery delivery, ObjectNode reply);

    /** The final reply: the request is acknowledged once the broker has it. */
    void complete(Delivery delivery, ObjectNode reply);
}
