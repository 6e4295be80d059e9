package dev.tinyedge.service;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The {@code error.code} values of protocol v1 (CONTRACTS §2). */
public enum ErrorCode {
    BAD_REQUEST, TOO_LONG, UNSUPPORTED_LANGUAGE, BUSY, TIMEOUT, CANCELLED, INTERNAL;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The code a reply names, or empty for one this version does not know. */
    public static Optional<ErrorCode> fromWireName(String wireName) {
        return Arrays.stream(values()).filter(code -> code.wireName().equals(wireName)).findFirst();
    }
}
