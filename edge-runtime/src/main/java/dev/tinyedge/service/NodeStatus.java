package dev.tinyedge.service;

/**
 * The node's retained status (CONTRACTS §2), published on {@code P/v1/status/NODE}.
 *
 * @param state       {@code loading}, {@code online}, {@code offline} or {@code error}
 * @param error       why the node cannot serve; only with {@code error}
 * @param queueDepth  requests waiting for the model
 * @param parallel    how many requests the node translates at once
 * @param active      how many it is translating now
 * @param unroutable  requests that named no reply topic
 * @param droppedQos0 QoS 0 messages dropped because too many waited to be handled already
 * @param temperatureC null where the board has no thermal zone
 */
record NodeStatus(String state, String error, String node, String model, String backend, String profile,
                  int queueDepth, int parallel, int active, long served, long errors, long unroutable,
                  long droppedQos0, double decodeTokensPerSecond, long uptimeS, Double temperatureC) {
}
