package dev.tinyedge.translate;

import java.util.List;

/**
 * Cuts generated text at the first stop string (a chat turn marker the model wrote as plain text). Text that
 * might be the start of a stop string is held back until the next piece shows whether it is, so a streamed
 * partial never contains part of a marker.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder text = new StringBuilder();
    private int released;
    private boolean hit;

    StopStrings(List<String> stops) {
        this.stops = stops;
    }

    /** Adds decoded text and returns the part of it that is now certain to belong to the answer. */
    String add(String piece) {
        text.append(piece);
        int end = text.length();
        for (String stop : stops) {
            int at = text.indexOf(stop, Math.max(0, released - stop.length() + 1));
            if (at >= 0 && at < end) {
                end = at;
                hit = true;
            }
        }
        if (hit) {
            text.setLength(end);
            return release(end);
        }
        int hold = 0;
        for (String stop : stops) {
            for (int k = Math.min(stop.length() - 1, text.length() - released); k > hold; k--) {
                if (text.lastIndexOf(stop.substring(0, k)) == text.length() - k) {
                    hold = k;
                    break;
                }
            }
        }
        return release(text.length() - hold);
    }

    /** True once a stop string was generated: the answer is complete. */
    boolean hit() {
        return hit;
    }

    /** The held-back rest, released when generation ends without a stop string. */
    String flush() {
        return release(text.length());
    }

    /** The whole answer so far, stop string excluded. */
    String text() {
        return text.toString();
    }

    private String release(int upTo) {
        if (upTo <= released) {
            return "";
        }
        String part = text.substring(released, upTo);
        released = upTo;
        return part;
    }
}
