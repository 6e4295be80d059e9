package dev.tinyedge.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece BPE over one fragment of text, as llama.cpp's SPM session does it: the text starts as one
 * symbol per character; every adjacent pair whose concatenation is a token waits in a queue ordered by
 * that token's score (higher first, the leftmost pair on ties); the best pair is merged and the new
 * neighbours are queued, until no pair is left. Each final symbol is a token, or else a single character
 * with no token, which falls back to its UTF-8 bytes as {@code <0xNN>} tokens.
 *
 * <p>llama.cpp routes the final symbols through a "resegment" step over recorded merges; since only pairs
 * that are tokens are ever merged, that step always ends in exactly these two cases.
 *
 * <p>Each merge is O(log n) in the queue, so long inputs take O(n log n).
 */
final class SpmMerger {

    /** A queued candidate: symbols {@code left} and {@code right}, which together spanned {@code length} chars. */
    private record Bigram(int left, int right, float score, int length) {}

    private final Vocabulary vocab;
    private final String text;
    // the symbols as a doubly linked list over the text; a merged-away symbol has length 0
    private final int[] start;
    private final int[] length;
    private final int[] prev;
    private final int[] next;
    private final PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> {
        int byScore = Float.compare(b.score(), a.score());
        return byScore != 0 ? byScore : Integer.compare(a.left(), b.left());
    });

    private SpmMerger(Vocabulary vocab, String text) {
        this.vocab = vocab;
        this.text = text;
        int n = text.codePointCount(0, text.length());
        start = new int[n];
        length = new int[n];
        prev = new int[n];
        next = new int[n];
        int offset = 0;
        for (int i = 0; i < n; i++) {
            start[i] = offset;
            length[i] = Character.charCount(text.codePointAt(offset));
            offset += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
    }

    /** Appends the tokens of {@code text} (spaces already escaped, prefix already added) to {@code out}. */
    static void tokenize(Vocabulary vocab, String text, IntList out) {
        if (!text.isEmpty()) {
            new SpmMerger(vocab, text).run(out);
        }
    }

    private void run(IntList out) {
        for (int i = 1; i < start.length; i++) {
            tryAddBigram(i - 1, i);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left();
            int right = bigram.right();
            // skip candidates made stale by an earlier merge of either side
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.length()) {
                continue;
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            tryAddBigram(prev[left], left);
            tryAddBigram(left, next[left]);
        }
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    out.add(vocab.tokenForByte(b & 0xFF));
                }
            }
        }
    }

    private void tryAddBigram(int left, int right) {
        if (left < 0 || right < 0) {
            return;
        }
        int merged = length[left] + length[right];
        int id = vocab.id(text.substring(start[left], start[left] + merged));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.scores[id], merged));
        }
    }
}
