package dev.tinyedge.gguf;

/** GGUF metadata value types, by the ids the file stores. */
public enum GgufValueType {
    UINT8(1), INT8(1), UINT16(2), INT16(2), UINT32(4), INT32(4), FLOAT32(4), BOOL(1), STRING(-1), ARRAY(-1),
    UINT64(8), INT64(8), FLOAT64(8);

    /** Fixed size in bytes, or -1 for strings and arrays. */
    public final int size;

    GgufValueType(int size) {
        this.size = size;
    }

    public static GgufValueType fromId(long id) {
        GgufValueType[] all = values();
        return id >= 0 && id < all.length ? all[(int) id] : null;
    }

    public int id() {
        return ordinal();
    }
}
