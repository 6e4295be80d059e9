package dev.tinyedge.service;

/** A request that cannot be served as sent; it is answered with an error reply carrying {@link #code()}. */
public final class RequestException extends Exception {
    private final ErrorCode code;

    public RequestException(ErrorCode code, String message) {
        super(message);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
