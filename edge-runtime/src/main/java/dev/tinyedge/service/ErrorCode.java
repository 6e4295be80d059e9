package dev.tinyedge.service;

import java.util.Locale;

/** The {@code error.code} values of protocol v1 (CONTRACTS §2). */
public enum ErrorCode {
    BAD_REQUEST, TOO_LONG, UNSUPPORTED_LANGUAGE, BUSY, TIMEOUT, CANCELLED, INTERNAL;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
