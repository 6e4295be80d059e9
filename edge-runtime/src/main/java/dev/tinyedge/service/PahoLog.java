package dev.tinyedge.service;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Paho logs a lost connection through java.util.logging as SEVERE with a stack trace, on stderr. tinyedge says
 * what happened to its connections itself, in one line, so Paho's own log is turned off.
 */
final class PahoLog {
    /** Held here: java.util.logging keeps loggers only weakly, and a collected one forgets its level. */
    private static final Logger PAHO = Logger.getLogger("org.eclipse.paho");

    private PahoLog() {
    }

    static void silence() {
        PAHO.setLevel(Level.OFF);
    }
}
