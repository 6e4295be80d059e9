package dev.tinyedge.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * Cuts text at the special tokens of a vocabulary before the merges run, as llama.cpp's
 * {@code tokenizer_st_partition} does: control and unknown tokens only when special tokens are parsed,
 * user-defined tokens always. llama.cpp takes the special tokens longest first (in UTF-8 bytes) and lets each
 * claim its occurrences from left to right in the text the longer ones left over. Here a trie finds every
 * occurrence in one pass and the same priority settles overlaps, so a vocabulary with thousands of special
 * tokens (Gemma's) costs no more than one with three.
 */
final class SpecialTokens {
    sealed interface Fragment permits Text, Special {}

    record Text(String text) implements Fragment {}

    record Special(int token) implements Fragment {}

    /** The special tokens, longest first; ties in id order (llama.cpp's sort leaves them unspecified). */
    private final int[] byPriority;
    private final int[] lengths;
    private final boolean[] alwaysParsed;
    /** Trie edges: node and character to child node; node 0 is the root. */
    private final LongIntMap edges;
    /** The priority of the token that ends at each node, or -1. */
    private final int[] endsHere;

    SpecialTokens(String[] pieces, TokenType[] types) {
        byPriority = IntStream.range(0, pieces.length)
                .filter(id -> types[id].isSpecial())
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> pieces[id].getBytes(StandardCharsets.UTF_8).length).reversed())
                .mapToInt(Integer::intValue)
                .toArray();
        lengths = new int[byPriority.length];
        alwaysParsed = new boolean[byPriority.length];
        int totalChars = 0;
        for (int p = 0; p < byPriority.length; p++) {
            lengths[p] = pieces[byPriority[p]].length();
            alwaysParsed[p] = types[byPriority[p]] == TokenType.USER_DEFINED;
            totalChars += lengths[p];
        }
        edges = new LongIntMap(totalChars);
        int[] ends = new int[totalChars + 1];
        Arrays.fill(ends, -1);
        int nodes = 1;
        for (int p = 0; p < byPriority.length; p++) {
            String text = pieces[byPriority[p]];
            int node = 0;
            for (int i = 0; i < text.length(); i++) {
                int child = edges.putIfAbsent(edge(node, text.charAt(i)), nodes);
                if (child == nodes) {
                    nodes++;
                }
                node = child;
            }
            ends[node] = p;
        }
        endsHere = ends;
    }

    private static long edge(int node, char c) {
        return (long) node << 16 | c;
    }

    /** The text as special tokens and the stretches of text between them, in order. */
    List<Fragment> partition(String text, boolean parseSpecial) {
        if (text.isEmpty()) {
            return List.of();
        }
        // every occurrence of an allowed special token, as priority << 32 | start
        long[] found = new long[16];
        int count = 0;
        for (int start = 0; start < text.length(); start++) {
            int node = 0;
            for (int i = start; i < text.length(); i++) {
                node = edges.get(edge(node, text.charAt(i)), -1);
                if (node < 0) {
                    break;
                }
                int p = endsHere[node];
                if (p >= 0 && (parseSpecial || alwaysParsed[p])) {
                    if (count == found.length) {
                        found = Arrays.copyOf(found, 2 * count);
                    }
                    found[count++] = (long) p << 32 | start;
                }
            }
        }
        if (count == 0) {
            return List.of(new Text(text));
        }
        // by priority, then from left to right: an occurrence stands unless an earlier one took part of it
        Arrays.sort(found, 0, count);
        int[] tokenAt = new int[text.length()];
        Arrays.fill(tokenAt, -1);
        boolean[] taken = new boolean[text.length()];
        for (int k = 0; k < count; k++) {
            int p = (int) (found[k] >>> 32);
            int start = (int) found[k];
            if (isFree(taken, start, lengths[p])) {
                Arrays.fill(taken, start, start + lengths[p], true);
                tokenAt[start] = p;
            }
        }
        List<Fragment> fragments = new ArrayList<>();
        int textStart = 0;
        for (int i = 0; i < text.length(); ) {
            int p = tokenAt[i];
            if (p < 0) {
                i++;
                continue;
            }
            if (i > textStart) {
                fragments.add(new Text(text.substring(textStart, i)));
            }
            fragments.add(new Special(byPriority[p]));
            i += lengths[p];
            textStart = i;
        }
        if (textStart < text.length()) {
            fragments.add(new Text(text.substring(textStart)));
        }
        return fragments;
    }

    private static boolean isFree(boolean[] taken, int start, int length) {
        for (int i = start; i < start + length; i++) {
            if (taken[i]) {
                return false;
            }
        }
        return true;
    }
}
