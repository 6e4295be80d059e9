package dev.tinyedge.tokenizer;

import java.util.Arrays;

/**
 * GPT-2's byte-to-character mapping, in which byte-level BPE vocabularies spell their tokens: each byte is one
 * printable character. The printable bytes {@code !..~}, {@code ¡..¬} and {@code ®..ÿ} stand for themselves;
 * the other 68 (controls, space, 0x7F..0xA0, 0xAD) become U+0100 onwards in byte order, so a space is
 * {@code Ġ} (U+0120) and a newline {@code Ċ} (U+010A).
 */
final class ByteLevel {
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** The byte each character stands for, by character; -1 for characters that stand for none. */
    private static final int[] CHAR_TO_BYTE = new int[256 + 68];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            BYTE_TO_CHAR[b] = (char) (printable ? b : next++);
            CHAR_TO_BYTE[BYTE_TO_CHAR[b]] = b;
        }
    }

    private ByteLevel() {
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** The byte a character stands for, or -1. */
    static int byteOf(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** The characters that spell {@code bytes[from..to)}. */
    static String encode(byte[] bytes, int from, int to) {
        char[] chars = new char[to - from];
        for (int i = from; i < to; i++) {
            chars[i - from] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(chars);
    }
}
