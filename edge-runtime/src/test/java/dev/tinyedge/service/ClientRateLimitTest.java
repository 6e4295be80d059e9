package dev.tinyedge.service;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-client token bucket, on a clock the test moves; the daemon's use of it is in {@link LimitsTest}. */
class ClientRateLimitTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void takesABurstOfTwiceTheRateThenTheRate() {
        ClientRateLimit limit = new ClientRateLimit(5);
        for (int i = 0; i < 10; i++) {
            assertEquals(0, limit.acquire("a/replies", 0), "request " + i + " of the burst");
        }
        assertEquals(200, limit.acquire("a/replies", 0), "one request refills in 1/5 s");
        assertEquals(0, limit.acquire("b/replies", 0), "another reply topic has its own bucket");
        assertEquals(0, limit.acquire("a/replies", SECOND / 5));
        assertTrue(limit.acquire("a/replies", SECOND / 5) > 0);
        for (int i = 0; i < 5; i++) {
            assertEquals(0, limit.acquire("a/replies", 2 * SECOND / 5 + i * SECOND / 5), "one every 1/5 s");
        }
        assertEquals(0, limit.acquire("a/replies", 100 * SECOND));
        int taken = 1;
        while (limit.acquire("a/replies", 100 * SECOND) == 0) {
            taken++;
        }
        assertEquals(10, taken, "a long pause refills the burst, no more");
    }

    @Test
    void offTakesEverything() {
        ClientRateLimit off = new ClientRateLimit(0);
        for (int i = 0; i < 10_000; i++) {
            assertEquals(0, off.acquire("a/replies", 0));
        }
    }

    @Test
    void keepsTheBucketsOfTheMostRecentReplyTopicsOnly() {
        ClientRateLimit limit = new ClientRateLimit(1);
        limit.acquire("first", 0);
        limit.acquire("first", 0);
        assertTrue(limit.acquire("first", 0) > 0, "its burst is spent");
        for (int i = 0; i < ClientRateLimit.MAX_CLIENTS; i++) {
            limit.acquire("topic-" + i, 0);
        }
        assertEquals(ClientRateLimit.MAX_CLIENTS, limit.clients(), "a client inventing reply topics fills no memory");
        assertEquals(0, limit.acquire("first", 0), "the least recently seen was forgotten: a new, full bucket");
    }
}
