package dev.tinyedge.gguf;

/**
 * A GGUF file that is truncated, corrupt or hostile (says what was wrong and at which byte), or a well-formed one
 * whose model tinyedge cannot run (says what it lacks).
 */
public final class GgufFormatException extends Exception {
    private final long offset;

    public GgufFormatException(String what, long offset) {
        super(what + " at offset " + offset);
        this.offset = offset;
    }

    /** A model the file describes correctly but tinyedge cannot run, or metadata that do not fit together: no byte to name. */
    public GgufFormatException(String what) {
        super(what);
        this.offset = -1;
    }

    /** The byte at fault, or -1 when the fault is in what the metadata say, not in how they are written. */
    public long offset() {
        return offset;
    }
}
