package dev.tinyedge.board;

/** A board profile that cannot be found, read or used; the message is one line for the user. */
public final class ProfileException extends RuntimeException {
    public ProfileException(String message) {
        super(message);
    }
}
