package dev.tinyedge.service;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dedup store's bounds: a client sending ever new ids with long texts cannot make it grow without end. */
class DedupCacheTest {
    private static Reply.Result result(String id, int chars) {
        return result(id, "x".repeat(chars));
    }

    private static Reply.Result result(String id, String translation) {
        return new Reply.Result(id, translation, "en", "de", "synthetic-tiny-q4_0", "node-1", new Reply.Tokens(12, 30),
                new Reply.Timing(1, 20, 300, 321));
    }

    @Test
    void keepsTheNewestResultsWithinItsBytes() {
        DedupCache cache = new DedupCache(600_000, 1_000_000, 64 * 1024);
        for (int i = 0; i < 1000; i++) {
            cache.put("r-" + i, result("r-" + i, 1000));
            assertTrue(cache.bytes() <= 64 * 1024, "after " + i + ": " + cache.bytes());
        }
        assertTrue(cache.size() > 40 && cache.size() < 64, "about 64 KiB / 1.3 KB entries: " + cache.size());
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

    /**
     * The charge per entry is what the heap really holds: the bound is a memory bound. Each result is built
     * afresh, as the daemon's are (no strings shared between them), and every other one is mostly ASCII with one
     * character beyond Latin-1, which the heap stores in two bytes per character (its JSON would be half that).
     */
    @Test
    void chargesWhatTheResultsTakeOnTheHeap() {
        long bound = 16L << 20;
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long before = usedAfterGc(memory);
        DedupCache cache = new DedupCache(600_000, 1_000_000, bound);
        for (int i = 0; cache.bytes() < bound - 8192; i++) {
            String id = "request-" + i + "-" + "p".repeat(i % 100);
            String text = "x".repeat(200 + i % 1500) + (i % 2 == 0 ? "\u20ac" : "");
            cache.put(id, new Reply.Result(id, text, new String("en"), new String("de"), "synthetic-" + i % 7,
                    "node-" + i % 3, new Reply.Tokens(i, i), new Reply.Timing(i, i, i, i)));
        }
        long held = usedAfterGc(memory) - before;
        assertTrue(cache.bytes() <= bound);
        assertTrue(held <= bound, "heap held " + held + " bytes for " + cache.size() + " results charged "
                + cache.bytes() + " (at most " + bound + ")");
        assertTrue(held > bound / 2, "the charge is close to what is held, not far above it: " + held
                + " bytes held for " + cache.bytes() + " charged");
        assertNotNull(cache.get("request-0-"));
    }

    private static long usedAfterGc(MemoryMXBean memory) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return memory.getHeapMemoryUsage().getUsed();
    }
}
