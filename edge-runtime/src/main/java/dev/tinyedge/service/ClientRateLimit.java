package dev.tinyedge.service;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * New requests per client per second, for brokers that do not limit them (Mosquitto 2.0 has no per-client
 * publish rate). The daemon never learns which connection published a request; the reply topic is the only
 * identity it sees, so that is what is limited: a token bucket per reply topic holding {@code 2 × perSecond}
 * requests, refilled at {@code perSecond}. A client that names a new reply topic for every request gets past it;
 * the queue bound and {@code busy} still hold the daemon's work, and the broker's ACL (deploy/mosquitto) keeps
 * a client to the reply topics it may read. The buckets of the {@link #MAX_CLIENTS} most recent reply topics are
 * kept, so the limiter's memory is bounded too.
 */
final class ClientRateLimit {
    static final int MAX_CLIENTS = 4096;

    private static final class Bucket {
        double tokens;
        long refilledNanos;
    }

    private final double perSecond;
    private final double capacity;
    private final LinkedHashMap<String, Bucket> buckets = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > MAX_CLIENTS;
        }
    };

    /** @param perSecond new requests a reply topic may bring per second; 0 turns the limit off */
    ClientRateLimit(int perSecond) {
        this.perSecond = perSecond;
        this.capacity = 2.0 * perSecond;
    }

    /**
     * Takes one request for {@code replyTopic} at {@code nowNanos}: 0 when it may go on, else the milliseconds
     * until it could (for the {@code busy} reply's {@code retry_after_ms}).
     */
    synchronized long acquire(String replyTopic, long nowNanos) {
        if (perSecond <= 0) {
            return 0;
        }
        Bucket bucket = buckets.get(replyTopic);
        if (bucket == null) {
            bucket = new Bucket();
            bucket.tokens = capacity;
            bucket.refilledNanos = nowNanos;
            buckets.put(replyTopic, bucket);
        }
        bucket.tokens = Math.min(capacity, bucket.tokens + (nowNanos - bucket.refilledNanos) / 1e9 * perSecond);
        bucket.refilledNanos = nowNanos;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return 0;
        }
        return (long) Math.ceil((1 - bucket.tokens) / perSecond * 1000);
    }

    synchronized int clients() {
        return buckets.size();
    }
}
