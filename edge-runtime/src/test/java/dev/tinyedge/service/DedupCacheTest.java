package dev.tinyedge.service;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dedup store's bounds: a client sending ever new ids with long texts cannot make it grow without end. */
class DedupCacheTest {
    private static ObjectNode result(String id, int chars) {
        ObjectNode reply = Replies.JSON.createObjectNode();
        reply.put("id", id);
        reply.put("status", "ok");
        reply.put("translation", "x".repeat(chars));
        return reply;
    }

    @Test
    void keepsTheNewestResultsWithinItsBytes() {
        DedupCache cache = new DedupCache(600_000, 1_000_000, 64 * 1024);
        for (int i = 0; i < 1000; i++) {
            cache.put("r-" + i, result("r-" + i, 1000));
            assertTrue(cache.bytes() <= 64 * 1024, "after " + i + ": " + cache.bytes());
        }
        assertTrue(cache.size() > 40 && cache.size() < 64, "about 64 KiB / 1.2 KB entries: " + cache.size());
        assertEquals(result("r-999", 1000), cache.get("r-999"));
        assertNull(cache.get("r-0"), "the oldest went first");
    }

    @Test
    void keepsTheNewestResultsWithinItsEntries() {
        DedupCache cache = new DedupCache(600_000, 10, 1 << 30);
        for (int i = 0; i < 100; i++) {
            cache.put("r-" + i, result("r-" + i, 10));
        }
        assertEquals(10, cache.size());
        assertNotNull(cache.get("r-90"));
        assertNull(cache.get("r-89"));
    }

    @Test
    void doesNotStoreAResultLargerThanItsBytes() {
        DedupCache cache = new DedupCache(600_000, 10, 4096);
        cache.put("small", result("small", 10));
        cache.put("huge", result("huge", 5000));
        assertNull(cache.get("huge"));
        assertNotNull(cache.get("small"), "a result too large to keep does not push the others out");
    }

    @Test
    void givesBackTheBytesOfExpiredAndReplacedResults() throws InterruptedException {
        DedupCache cache = new DedupCache(50, 100, 1 << 20);
        cache.put("a", result("a", 100));
        long one = cache.bytes();
        cache.put("a", result("a", 100));
        assertEquals(one, cache.bytes(), "a repeated id replaces its entry");
        Thread.sleep(100);
        cache.put("b", result("b", 100));
        assertEquals(one, cache.bytes(), "the expired entry was given back");
        assertNull(cache.get("a"));
    }

    /** The charge per entry is what the heap really holds, within a margin: the bound is a memory bound. */
    @Test
    void chargesWhatTheResultsTakeOnTheHeap() {
        long bound = 16L << 20;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = usedAfterGc(memory);
        DedupCache cache = new DedupCache(600_000, 1_000_000, bound);
        for (int i = 0; cache.bytes() < bound - 4096; i++) {
            String id = "request-" + i + "-" + "p".repeat(i % 100);
            cache.put(id, result(id, 200 + i % 1500));
        }
        long held = usedAfterGc(memory) - before;
        assertTrue(cache.bytes() <= bound);
        assertTrue(held < bound * 3 / 2, "heap held " + held + " bytes for " + cache.size() + " results charged "
                + cache.bytes());
        assertNotNull(cache.get("request-0-"));
    }

    private static long usedAfterGc(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
