package dev.tinyedge.service;

/**
 * One arrival of a request message: where its replies go, and what acknowledges it once its final reply is out.
 *
 * @param replyTopic      the MQTT 5 Response Topic, else the payload's {@code reply_to}
 * @param correlationData echoed on every reply; null for MQTT 3.1.1 clients
 * @param packetId        the PUBLISH packet id, valid only on {@code connection}
 * @param connection      which broker connection delivered it: packet ids of an earlier one must not be acknowledged
 * @param redelivered     the broker's dup flag: a request it sent before, never answered with {@code busy}
 */
public record Delivery(String replyTopic, byte[] correlationData, int packetId, int qos, long connection,
                       boolean redelivered) {
}
