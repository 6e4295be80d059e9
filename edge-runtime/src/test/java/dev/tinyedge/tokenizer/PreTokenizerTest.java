package dev.tinyedge.tokenizer;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * llama.cpp's hand-written splitters against the Hugging Face expressions they stand for, run by
 * java.util.regex with Unicode classes (so {@code \s} is White_Space), on random text over an alphabet of
 * letters, marks, digits, apostrophes, every kind of space and line break, CJK and emoji.
 */
class PreTokenizerTest {
    private static final String CONTRACTIONS = "'s|'t|'re|'ve|'m|'ll|'d";
    private static final String GPT2 = CONTRACTIONS + "| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    private static final String LLAMA3 = "(?i:" + CONTRACTIONS + ")|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final String QWEN2 = LLAMA3.replace("\\p{N}{1,3}", "\\p{N}");
    /** No characters Unicode 16.0 added (they are unassigned to llama.cpp) and none that case-fold to ASCII. */
    private static final int[] ALPHABET = ("aZé'’ \n\r\t\u000b7١٣.,!?-_\u00a0\u2003\u3000\u0085ß你好😀🦙"
            + "sStTdDlLvVeErRmM\u0301\u200d\u0007x").codePoints().toArray();

    private static List<String> split(PreTokenizer pre, String text) {
        int[] cps = text.codePoints().toArray();
        IntList ends = new IntList();
        pre.split(cps, cps.length, ends);
        List<String> words = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < ends.size(); i++) {
            words.add(new String(cps, start, ends.get(i) - start));
            start = ends.get(i);
        }
        assertEquals(cps.length, start, "the words cover the text");
        return words;
    }

    /** The regex's matches and the text between them, as llama.cpp's splitter keeps both. */
    private static List<String> regex(Pattern pattern, String text) {
        List<String> words = new ArrayList<>();
        Matcher m = pattern.matcher(text);
        int last = 0;
        while (m.find()) {
            if (m.start() > last) {
                words.add(text.substring(last, m.start()));
            }
            words.add(m.group());
            last = m.end();
        }
        if (last < text.length()) {
            words.add(text.substring(last));
        }
        return words;
    }

    /** SmolLM: every number on its own, then GPT-2's expression between them. */
    private static List<String> smollm(Pattern gpt2, String text) {
        List<String> words = new ArrayList<>();
        for (String piece : regex(Pattern.compile("\\p{N}", Pattern.UNICODE_CHARACTER_CLASS), text)) {
            words.addAll(regex(gpt2, piece));
        }
        return words;
    }

    @ParameterizedTest
    @CsvSource({"GPT2", "LLAMA3", "QWEN2", "SMOLLM"})
    void matchesTheHuggingFaceExpression(PreTokenizer pre) {
        Pattern gpt2 = Pattern.compile(GPT2, Pattern.UNICODE_CHARACTER_CLASS);
        Pattern pattern = Pattern.compile(switch (pre) {
            case GPT2, SMOLLM -> GPT2;
            case LLAMA3 -> LLAMA3;
            case QWEN2 -> QWEN2;
        }, Pattern.UNICODE_CHARACTER_CLASS);
        Random random = new Random(pre.ordinal());
        for (int i = 0; i < 20_000; i++) {
            int[] cps = new int[random.nextInt(14)];
            for (int k = 0; k < cps.length; k++) {
                cps[k] = ALPHABET[random.nextInt(ALPHABET.length)];
            }
            String text = new String(cps, 0, cps.length);
            List<String> expected = pre == PreTokenizer.SMOLLM ? smollm(gpt2, text) : regex(pattern, text);
            assertEquals(expected, split(pre, text), () -> pre + " on '" + text.replace("\n", "\\n") + "'");
        }
    }

    @Test
    void examples() {
        assertEquals(List.of("I", "'M", " SURE", " YOU", "'RE"), split(PreTokenizer.LLAMA3, "I'M SURE YOU'RE"));
        assertEquals(List.of("I", "'", "M"), split(PreTokenizer.GPT2, "I'M"));
        assertEquals(List.of("123", "456", "7", " ", "89"), split(PreTokenizer.LLAMA3, "1234567 89"));
        assertEquals(List.of("1", "2", "3", " ", "8", "9"), split(PreTokenizer.QWEN2, "123 89"));
        assertEquals(List.of("x", " ", "1", "2", "y"), split(PreTokenizer.SMOLLM, "x 12y"));
        assertEquals(List.of(" 12"), split(PreTokenizer.GPT2, " 12"));
        assertEquals(List.of("a", "  \n\n", "b"), split(PreTokenizer.QWEN2, "a  \n\nb"));
        assertEquals(List.of(" hello", "  ", " world"), split(PreTokenizer.GPT2, " hello   world"));
    }

    @Test
    void llamaCppNamesTheirPreTokenizers() {
        assertEquals(PreTokenizer.LLAMA3, PreTokenizer.named("llama-bpe"));
        assertEquals(PreTokenizer.QWEN2, PreTokenizer.named("qwen2"));
        assertEquals(PreTokenizer.GPT2, PreTokenizer.named("gpt-2"));
        assertEquals(PreTokenizer.SMOLLM, PreTokenizer.named("smollm"));
        assertEquals(null, PreTokenizer.named("gpt2"));
        assertTrue(PreTokenizer.LLAMA3.ignoreMerges);
        assertFalse(PreTokenizer.QWEN2.ignoreMerges);
    }

    @Test
    void characterClassesAreLlamaCppsUnicode151() {
        assertTrue(UnicodeCategories.isLetter('ж') && UnicodeCategories.isLetter('你') && UnicodeCategories.isLetter(0x1C88));
        // U+1C89 CYRILLIC CAPITAL LETTER TJE and U+105C0 TODHRI LETTER A came with Unicode 16.0
        assertFalse(UnicodeCategories.isLetter(0x1C89) || UnicodeCategories.isLetter(0x105C0));
        assertTrue(UnicodeCategories.isNumber('٣') && UnicodeCategories.isNumber('½') && !UnicodeCategories.isNumber('a'));
        assertTrue(UnicodeCategories.isWhitespace(0xA0) && UnicodeCategories.isWhitespace(0x85) && UnicodeCategories.isWhitespace(0x200A));
        assertFalse(UnicodeCategories.isWhitespace(0x1C) || UnicodeCategories.isWhitespace(0x200B));
    }
}
