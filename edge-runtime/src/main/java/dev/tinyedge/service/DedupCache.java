package dev.tinyedge.service;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Results by request id for the dedup window, so that a repeated id (a client's retry, a broker's redelivery)
 * is answered without translating again. Bounded in time and in entries; the oldest go first.
 */
final class DedupCache {
    private record Entry(Reply.Result result, long storedNanos) {
    }

    private final long windowNanos;
    private final int maxEntries;
    private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();

    DedupCache(long windowMillis, int maxEntries) {
        this.windowNanos = windowMillis * 1_000_000;
        this.maxEntries = maxEntries;
    }

    Reply.Result get(String id) {
        expire();
        Entry entry = entries.get(id);
        return entry == null ? null : entry.result();
    }

    void put(String id, Reply.Result result) {
        entries.remove(id);
        entries.put(id, new Entry(result, System.nanoTime()));
        if (entries.size() > maxEntries) {
            entries.pollFirstEntry();
        }
        expire();
    }

    private void expire() {
        long now = System.nanoTime();
        for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
            if (now - it.next().getValue().storedNanos() <= windowNanos) {
                break;
            }
            it.remove();
        }
    }
}
