package dev.tinyedge.service;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Results by request id for the dedup window, so that a repeated id (a client's retry, a broker's redelivery)
 * is answered without translating again. Bounded in time, in entries and in bytes; the oldest go first.
 * Results are kept as the JSON they are published as, so the byte bound is the memory they take: each entry is
 * charged its JSON, its id and {@link #ENTRY_OVERHEAD_BYTES} for the map's bookkeeping.
 */
final class DedupCache {
    /** A map entry, the record, the id's String and the array headers, rounded up (64-bit JVM). */
    static final int ENTRY_OVERHEAD_BYTES = 160;

    private record Entry(byte[] json, long storedNanos, long charge) {
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

    ObjectNode get(String id) {
        expire();
        Entry entry = entries.get(id);
        if (entry == null) {
            return null;
        }
        try {
            return (ObjectNode) Replies.JSON.readTree(entry.json());
        } catch (IOException e) {
            throw new UncheckedIOException("a stored result no longer parses", e);
        }
    }

    void put(String id, ObjectNode reply) {
        byte[] json;
        try {
            json = Replies.JSON.writeValueAsBytes(reply);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
        long charge = json.length + 2L * id.length() + ENTRY_OVERHEAD_BYTES;
        if (charge > maxBytes) {
            return; // larger than the whole store: a repeat is translated again
        }
        remove(id);
        entries.put(id, new Entry(json, System.nanoTime(), charge));
        bytes += charge;
        while (entries.size() > maxEntries || bytes > maxBytes) {
            remove(entries.firstEntry().getKey());
        }
        expire();
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
