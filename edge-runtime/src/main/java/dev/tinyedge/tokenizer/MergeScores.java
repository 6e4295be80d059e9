package dev.tinyedge.tokenizer;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * SentencePiece scores that reproduce a Hugging Face merge list, for SentencePiece vocabularies that come as
 * {@code tokenizer.json} without their {@code tokenizer.model} (llama-tokenizer-js's Llama 2, the Gemma 3
 * package). Hugging Face made the list from the scores: each piece's splits into two pieces, ordered by the
 * piece's score. So a piece's first merge rank orders it as its score did, and llama.cpp's SentencePiece merge
 * (highest score first) makes the same tokens with {@code -rank} as the score. Pieces whose merges interleave
 * in the list had one score (Hugging Face orders a score's merges by their parts) and get one score, so that
 * ties still go to the leftmost pair. tests/python/hf_tokenizer.py derives the same.
 */
final class MergeScores {
    private MergeScores() {
    }

    /**
     * @param madeBy the token each merge makes, by rank (-1 when its text is not a token)
     * @param unmade the score of tokens no merge makes
     */
    static float[] derive(int[] madeBy, int vocabSize, float unmade) {
        int[] firstRank = new int[vocabSize];
        int[] lastRank = new int[vocabSize];
        Arrays.fill(firstRank, -1);
        for (int rank = 0; rank < madeBy.length; rank++) {
            int id = madeBy[rank];
            if (id >= 0) {
                if (firstRank[id] < 0) {
                    firstRank[id] = rank;
                }
                lastRank[id] = rank;
            }
        }
        float[] scores = new float[vocabSize];
        Arrays.fill(scores, unmade);
        // walk the merged pieces by first rank; a piece that starts before the group's last merge joins it
        int[] merged = IntStream.range(0, vocabSize).filter(id -> firstRank[id] >= 0).boxed()
                .sorted(Comparator.comparingInt(id -> firstRank[id])).mapToInt(Integer::intValue).toArray();
        int groupStart = -1;
        int groupEnd = -1;
        for (int id : merged) {
            if (firstRank[id] > groupEnd) {
                groupStart = firstRank[id];
            }
            groupEnd = Math.max(groupEnd, lastRank[id]);
            scores[id] = -groupStart;
        }
        return scores;
    }

    /** Whether a merge makes the token: its score then differs from {@code unmade}. */
    static boolean made(float[] scores, int id, float unmade) {
        return scores[id] != unmade;
    }
}
