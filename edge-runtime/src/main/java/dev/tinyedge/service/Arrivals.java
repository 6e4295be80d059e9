package dev.tinyedge.service;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Arriving messages, handled in order on one thread off Paho's. QoS 0 messages have no flow control: a client
 * publishing them faster than the daemon answers would fill the queue without end, so beyond
 * {@code maxWaitingQos0} waiting messages they are dropped (QoS 0 may be lost). QoS 1 messages are always taken:
 * the broker's in-flight window bounds them, and dropping one would leave it unacknowledged.
 */
final class Arrivals {
    private final LinkedBlockingQueue<Runnable> waiting = new LinkedBlockingQueue<>();
    private final ExecutorService thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, waiting,
            Thread.ofPlatform().name("requests").daemon().factory());
    private final int maxWaitingQos0;
    private final AtomicLong droppedQos0 = new AtomicLong();

    Arrivals(int maxWaitingQos0) {
        this.maxWaitingQos0 = maxWaitingQos0;
    }

    /** Queues {@code handling} for a message of {@code qos}; false when the message is dropped. */
    boolean offer(int qos, Runnable handling) {
        if (qos == 0 && waiting.size() >= maxWaitingQos0) {
            droppedQos0.incrementAndGet();
            return false;
        }
        thread.execute(handling);
        return true;
    }

    long droppedQos0() {
        return droppedQos0.get();
    }

    void shutdownNow() {
        thread.shutdownNow();
    }
}
