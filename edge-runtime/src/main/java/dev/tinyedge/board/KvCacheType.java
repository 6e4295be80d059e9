package dev.tinyedge.board;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Element type of the attention key/value cache, with its size in bytes. */
public enum KvCacheType {
    @JsonProperty("f32") F32(4),
    @JsonProperty("f16") F16(2);

    public final int bytes;

    KvCacheType(int bytes) {
        this.bytes = bytes;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
