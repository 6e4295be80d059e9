package dev.tinyedge.service;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Results by request id for the dedup window, so that a repeated id (a client's retry, a broker's redelivery)
 * is answered without translating again. Bounded in time, in entries and in bytes; the oldest go first.
 *
 * <p>The byte bound is a bound on the heap the results take: each entry is charged what its objects occupy on a
 * 64-bit JVM ({@link #charge}). Not the size of the result's JSON: a string that holds one character beyond
 * Latin-1 stores every character in two bytes, so mostly-ASCII text with one such character takes twice its
 * UTF-8 size on the heap.
 */
final class DedupCache {
    /**
     * The fixed objects of an entry, rounded up: the map's entry (40) and its table slots (8), the entry record
     * (24), the result record (48), its tokens (24) and timing (48) records.
     */
    private static final int ENTRY_OVERHEAD_BYTES = 200;
    /** A String object (24) and its byte array's header (16). */
    private static final int STRING_OVERHEAD_BYTES = 40;

    private record Entry(Reply.Result result, long storedNanos, long charge) {
    }

    private final long windowNanos;
    private final int maxEntries;
    private final long maxBytes;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
    private long bytes;

    DedupCache(long windowMillis, int maxEntries, long maxBytes) {
        this.windowNanos = windowMillis * 1_000_000;
        this.maxEntries = maxEntries;
        this.maxBytes = maxBytes;
    }

    Reply.Result get(String id) {
        expire();
        Entry entry = entries.get(id);
        return entry == null ? null : entry.result();
    }

    void put(String id, Reply.Result result) {
        long charge = charge(id, result);
        if (charge > maxBytes) {
            return; // larger than the whole store: a repeat is translated again
        }
        remove(id);
        entries.put(id, new Entry(result, System.nanoTime(), charge));
        bytes += charge;
        while (entries.size() > maxEntries || bytes > maxBytes) {
            remove(entries.firstEntry().getKey());
        }
        expire();
    }

    /**
     * What an entry occupies on the heap, at most: its fixed objects and every string it refers to. The model,
     * node and language strings are usually shared between results; charging them to each keeps this an upper
     * bound.
     */
    private static long charge(String id, Reply.Result result) {
        return ENTRY_OVERHEAD_BYTES + stringBytes(id) + stringBytes(result.id()) + stringBytes(result.translation())
                + stringBytes(result.source()) + stringBytes(result.target()) + stringBytes(result.model())
                + stringBytes(result.node());
    }

    /** A string's heap size: one byte per character while all are Latin-1 (compact strings), else two. */
    private static long stringBytes(String s) {
        if (s == null) {
            return 0;
        }
        boolean latin1 = s.chars().allMatch(c -> c <= 0xFF);
        long data = (long) s.length() * (latin1 ? 1 : 2);
        return STRING_OVERHEAD_BYTES + (data + 7) / 8 * 8;
    }

    /** What the stored results take, as charged. */
    long bytes() {
        return bytes;
    }

    int size() {
        return entries.size();
    }

    private void remove(String id) {
        Entry old = entries.remove(id);
        if (old != null) {
            bytes -= old.charge();
        }
    }

    private void expire() {
        long now = System.nanoTime();
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Entry> next = it.next();
            if (now - next.getValue().storedNanos() <= windowNanos) {
                break;
            }
            bytes -= next.getValue().charge();
            it.remove();
        }
    }
}
