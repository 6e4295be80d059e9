package dev.tinyedge.tokenizer;

/**
 * The character classes llama.cpp's pre-tokenizers test ({@code \p{L}}, {@code \p{N}}, {@code \s}), as its
 * Unicode tables ({@code src/unicode-data.cpp}) define them.
 *
 * <p>Those tables are Unicode 15.1; the JDK's are 16.0. The characters Unicode 16.0 added (Todhri, Garay,
 * new emoji, ...) are unassigned to llama.cpp, so a letter among them does not join a word there; they are
 * listed here and treated as unassigned, which makes the classes the same as llama.cpp's for every code
 * point (checked against its table on the JDK 25 this was written with).
 */
final class UnicodeCategories {
    /** First and last code point of each range that Unicode 16.0 assigned (DerivedAge.txt, Age=16.0). */
    private static final int[] UNICODE_16_ADDITIONS = {
            0x897, 0x897, 0x1B4E, 0x1B4F, 0x1B7F, 0x1B7F, 0x1C89, 0x1C8A, 0x2427, 0x2429, 0x31E4, 0x31E5,
            0xA7CB, 0xA7CD, 0xA7DA, 0xA7DC, 0x105C0, 0x105F3, 0x10D40, 0x10D65, 0x10D69, 0x10D85, 0x10D8E, 0x10D8F,
            0x10EC2, 0x10EC4, 0x10EFC, 0x10EFC, 0x11380, 0x11389, 0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390, 0x113B5,
            0x113B7, 0x113C0, 0x113C2, 0x113C2, 0x113C5, 0x113C5, 0x113C7, 0x113CA, 0x113CC, 0x113D5, 0x113D7, 0x113D8,
            0x113E1, 0x113E2, 0x116D0, 0x116E3, 0x11BC0, 0x11BE1, 0x11BF0, 0x11BF9, 0x11F5A, 0x11F5A, 0x13460, 0x143FA,
            0x16100, 0x16139, 0x16D40, 0x16D79, 0x18CFF, 0x18CFF, 0x1CC00, 0x1CCF9, 0x1CD00, 0x1CEB3, 0x1E5D0, 0x1E5FA,
            0x1E5FF, 0x1E5FF, 0x1F8B2, 0x1F8BB, 0x1F8C0, 0x1F8C1, 0x1FA89, 0x1FA89, 0x1FA8F, 0x1FA8F, 0x1FABE, 0x1FABE,
            0x1FAC6, 0x1FAC6, 0x1FADC, 0x1FADC, 0x1FADF, 0x1FADF, 0x1FAE9, 0x1FAE9, 0x1FBCB, 0x1FBEF};

    private UnicodeCategories() {
    }

    /** {@code \p{L}}: general category Lu, Ll, Lt, Lm or Lo. */
    static boolean isLetter(int cp) {
        return switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> !addedInUnicode16(cp);
            default -> false;
        };
    }

    /** {@code \p{N}}: general category Nd, Nl or No. */
    static boolean isNumber(int cp) {
        return switch (Character.getType(cp)) {
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> !addedInUnicode16(cp);
            default -> false;
        };
    }

    /**
     * {@code \s}: Unicode's White_Space property, which llama.cpp uses (Java's {@code isWhitespace} leaves out
     * the no-break spaces and adds the information separators U+001C..U+001F).
     */
    static boolean isWhitespace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    private static boolean addedInUnicode16(int cp) {
        if (cp < UNICODE_16_ADDITIONS[0]) {
            return false;
        }
        // the index of the last range start <= cp, found among the even positions
        int lo = 0;
        int hi = UNICODE_16_ADDITIONS.length / 2 - 1;
        while (lo < hi) {
            int mid = (lo + hi + 1) >>> 1;
            if (UNICODE_16_ADDITIONS[2 * mid] <= cp) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return cp <= UNICODE_16_ADDITIONS[2 * lo + 1];
    }
}
