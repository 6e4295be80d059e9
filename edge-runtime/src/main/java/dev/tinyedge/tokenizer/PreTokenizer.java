package dev.tinyedge.tokenizer;

import java.util.Map;
import java.util.stream.Collectors;

/**
 * How a byte-level BPE vocabulary cuts text into words before merging, chosen by {@code tokenizer.ggml.pre}.
 * Each is the hand-written splitter llama.cpp runs in place of the Hugging Face regex (src/unicode.cpp), quirks
 * included, so the words are llama.cpp's: the regexes are quoted on each constant. Text is not normalized.
 */
enum PreTokenizer {
    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)} */
    GPT2(false),
    /**
     * Llama 3: {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
     * \s*[\r\n]+|\s+(?!\S)|\s+}. A word that is itself a token is not merged ("ignore_merges").
     */
    LLAMA3(true),
    /** Qwen2 and Qwen3: Llama 3's expression with single digits, {@code \p{N}} for {@code \p{N}{1,3}}. */
    QWEN2(false),
    /** SmolLM: every digit on its own ({@code \p{N}}), then GPT-2's expression on what lies between. */
    SMOLLM(false);

    /** llama.cpp's names for these pre-tokenizers (src/llama-vocab.cpp). */
    private static final Map<String, PreTokenizer> NAMES = Map.of(
            "gpt-2", GPT2,
            "llama-bpe", LLAMA3, "llama3", LLAMA3, "llama-v3", LLAMA3,
            "qwen2", QWEN2, "deepseek-r1-qwen", QWEN2,
            "smollm", SMOLLM);

    /** llama.cpp tokenizes a word that is a token as that token, without running the merges. */
    final boolean ignoreMerges;

    PreTokenizer(boolean ignoreMerges) {
        this.ignoreMerges = ignoreMerges;
    }

    /** The pre-tokenizer llama.cpp uses for {@code name}, or null. */
    static PreTokenizer named(String name) {
        return NAMES.get(name);
    }

    static String knownNames() {
        return NAMES.keySet().stream().sorted().collect(Collectors.joining(", "));
    }

    /** Appends the end offset of each word of {@code cps[0..n)} to {@code ends}. */
    void split(int[] cps, int n, IntList ends) {
        switch (this) {
            case GPT2 -> new Scan(cps, 0, n, ends).gpt2();
            case LLAMA3 -> new Scan(cps, 0, n, ends).llama3(3);
            case QWEN2 -> new Scan(cps, 0, n, ends).llama3(1);
            case SMOLLM -> {
                // each number on its own, as std::regex splits "\p{N}" in llama.cpp, then GPT-2 on each piece
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (UnicodeCategories.isNumber(cps[i])) {
                        if (i > start) {
                            new Scan(cps, start, i, ends).gpt2();
                        }
                        ends.add(i + 1);
                        start = i + 1;
                    }
                }
                if (n > start) {
                    new Scan(cps, start, n, ends).gpt2();
                }
            }
        }
    }

    /** One pass over {@code cps[from..to)}, with llama.cpp's helpers: positions outside the range have no class. */
    private static final class Scan {
        private static final int OUT_OF_RANGE = -1;

        private final int[] cps;
        private final int from;
        private final int to;
        private final IntList ends;
        private int previousEnd;

        Scan(int[] cps, int from, int to, IntList ends) {
            this.cps = cps;
            this.from = from;
            this.to = to;
            this.ends = ends;
            this.previousEnd = from;
        }

        private int cpt(int pos) {
            return pos >= from && pos < to ? cps[pos] : OUT_OF_RANGE;
        }

        private boolean inRange(int pos) {
            return pos >= from && pos < to;
        }

        private boolean letter(int pos) {
            return inRange(pos) && UnicodeCategories.isLetter(cps[pos]);
        }

        private boolean number(int pos) {
            return inRange(pos) && UnicodeCategories.isNumber(cps[pos]);
        }

        private boolean whitespace(int pos) {
            return inRange(pos) && UnicodeCategories.isWhitespace(cps[pos]);
        }

        /** {@code [^\s\p{L}\p{N}]}: any assigned or unassigned character but those (nothing past the range). */
        private boolean other(int pos) {
            return inRange(pos) && !whitespace(pos) && !letter(pos) && !number(pos);
        }

        /** Ends a word at {@code end} (nothing when empty); returns its length. */
        private int word(int end) {
            int length = end - previousEnd;
            if (length > 0) {
                ends.add(end);
            }
            previousEnd = end;
            return length;
        }

        /** {@code 's|'t|'re|'ve|'m|'ll|'d}, case-sensitive or not: the contraction's length, or 0. */
        private int contraction(int pos, boolean ignoreCase) {
            if (cpt(pos) != '\'' || pos + 1 >= to) {
                return 0;
            }
            int next = lower(cpt(pos + 1), ignoreCase);
            if (next == 's' || next == 't' || next == 'm' || next == 'd') {
                return 2;
            }
            if (pos + 2 < to) {
                int nextNext = lower(cpt(pos + 2), ignoreCase);
                if ((next == 'r' && nextNext == 'e') || (next == 'v' && nextNext == 'e') || (next == 'l' && nextNext == 'l')) {
                    return 3;
                }
            }
            return 0;
        }

        /** Only ASCII capitals lower-case to the letters the contractions use. */
        private static int lower(int cp, boolean ignoreCase) {
            return ignoreCase && cp >= 'A' && cp <= 'Z' ? cp + ('a' - 'A') : cp;
        }

        void gpt2() {
            for (int pos = from; pos < to; ) {
                int cpt = cpt(pos);
                int contraction = contraction(pos, false);
                if (contraction > 0) {
                    pos += word(pos + contraction);
                    continue;
                }
                int at = cpt == ' ' ? pos + 1 : pos; // the class after an optional leading space
                if (letter(at)) { // ' ?\p{L}+'
                    pos = at;
                    while (letter(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                if (number(at)) { // ' ?\p{N}+'
                    pos = at;
                    while (number(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                if (other(at)) { // ' ?[^\s\p{L}\p{N}]+'
                    pos = at;
                    while (other(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                pos = whitespaceRun(pos, false);
            }
        }

        /** Llama 3's expression with {@code \p{N}{1,maxDigits}} (1 for Qwen2). */
        void llama3(int maxDigits) {
            for (int pos = from; pos < to; ) {
                int cpt = cpt(pos);
                int contraction = contraction(pos, true);
                if (contraction > 0) {
                    pos += word(pos + contraction);
                    continue;
                }
                // '[^\r\n\p{L}\p{N}]?\p{L}+'
                if (!(cpt == '\r' || cpt == '\n' || number(pos)) && (letter(pos) || letter(pos + 1))) {
                    pos++;
                    while (letter(pos)) {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                // '\p{N}{1,3}': a run of digits in words of up to three
                if (number(pos)) {
                    int start = pos;
                    while (number(pos)) {
                        if (++pos - start >= maxDigits) {
                            word(pos);
                            start = pos;
                        }
                    }
                    word(pos);
                    continue;
                }
                // ' ?[^\s\p{L}\p{N}]+[\r\n]*': llama.cpp checks the character after the space (which may be
                // past the end: then the space alone is the word)
                int at = cpt == ' ' ? pos + 1 : pos;
                if (!(whitespace(at) || letter(at) || number(at))) {
                    pos = at;
                    while (other(pos)) {
                        pos++;
                    }
                    while (cpt(pos) == '\r' || cpt(pos) == '\n') {
                        pos++;
                    }
                    word(pos);
                    continue;
                }
                pos = whitespaceRun(pos, true);
            }
        }

        /**
         * The whitespace alternatives at {@code pos}: {@code \s*[\r\n]+} (up to the last line break of the run,
         * when {@code lineBreaks}), {@code \s+(?!\S)} (all but the last of a run that text follows), {@code \s+};
         * else the character alone. Returns the position after the word.
         */
        private int whitespaceRun(int pos, boolean lineBreaks) {
            int count = 0;
            int afterLastBreak = -1;
            while (whitespace(pos + count)) {
                int c = cpt(pos + count);
                if (c == '\r' || c == '\n') {
                    afterLastBreak = pos + count + 1;
                }
                count++;
            }
            if (lineBreaks && afterLastBreak >= 0) {
                word(afterLastBreak);
                return afterLastBreak;
            }
            if (count > 1 && cpt(pos + count) != OUT_OF_RANGE) {
                word(pos + count - 1);
                return pos + count - 1;
            }
            if (count > 0) {
                word(pos + count);
                return pos + count;
            }
            word(pos + 1);
            return pos + 1;
        }
    }
}
