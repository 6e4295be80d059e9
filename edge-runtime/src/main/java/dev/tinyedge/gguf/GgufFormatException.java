package dev.tinyedge.gguf;

/** A GGUF file that is truncated, corrupt or hostile: says what was wrong and at which byte. */
public final class GgufFormatException extends Exception {
    private final long offset;

    public GgufFormatException(String what, long offset) {
        super(what + " at offset " + offset);
        this.offset = offset;
    }

    public long offset() {
        return offset;
    }
}
