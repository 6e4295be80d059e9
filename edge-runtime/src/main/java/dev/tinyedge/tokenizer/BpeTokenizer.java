package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}: Llama 3, Qwen2, Qwen3) as llama.cpp's BPE session runs
 * it. A stretch of text is cut into words by the {@link PreTokenizer} that {@code tokenizer.ggml.pre} names;
 * each word's UTF-8 bytes are spelled in GPT-2's byte characters ({@link ByteLevel}) and merged pair by pair,
 * lowest merge rank first ({@code tokenizer.ggml.merges}, first line rank 0), the leftmost pair on ties.
 * A symbol that is not a token at the end keeps only its ASCII bytes, as in llama.cpp; with a vocabulary
 * that has every byte, which byte-level vocabularies do, that never happens.
 */
final class BpeTokenizer extends Tokenizer {
    private final PreTokenizer pre;
    /** The rank of each merge, by its pair of token ids ({@code left << 32 | right}). */
    private final LongIntMap ranks;
    /** The token each merge makes, by rank; -1 when the pair's text is not a token. */
    private final int[] merged;
    /** The token spelling each single byte, or -1. */
    private final int[] byteTokens = new int[256];

    private BpeTokenizer(Vocabulary vocab, PreTokenizer pre, String[] merges) throws GgufFormatException {
        super(vocab);
        this.pre = pre;
        this.ranks = new LongIntMap(merges.length);
        this.merged = new int[merges.length];
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new GgufFormatException(Vocabulary.MERGES + " entry " + rank + " '" + merge
                        + "' is not two tokens separated by a space");
            }
            String left = merge.substring(0, space);
            String right = merge.substring(space + 1);
            // llama.cpp keeps the first rank of a pair listed twice
            ranks.putIfAbsent(pair(mergeToken(left, rank, merge), mergeToken(right, rank, merge)), rank);
            merged[rank] = vocab.id(left + right);
        }
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.id(String.valueOf(ByteLevel.charOf(b)));
        }
    }

    static BpeTokenizer load(GgufFile file) throws GgufFormatException {
        String name = file.getString(Vocabulary.PRE, null);
        if (name == null) {
            throw new GgufFormatException("metadata key '" + Vocabulary.PRE + "' is missing: it names how llama.cpp "
                    + "splits text into words (tinyedge knows " + PreTokenizer.knownNames() + ")");
        }
        PreTokenizer pre = PreTokenizer.named(name);
        if (pre == null) {
            throw new GgufFormatException(Vocabulary.PRE + " is '" + name + "': tinyedge splits text as llama.cpp does for "
                    + PreTokenizer.knownNames() + " only");
        }
        // llama.cpp's BPE defaults: BOS and EOS 11 (GPT-2's), no unknown token; Llama 3 adds BOS
        Vocabulary vocab = Vocabulary.fromGguf(file, new Vocabulary.Defaults(11, 11, -1, pre == PreTokenizer.LLAMA3, false));
        return new BpeTokenizer(vocab, pre, Vocabulary.strings(file, Vocabulary.MERGES, "BPE merges"));
    }

    private int mergeToken(String text, int rank, String merge) throws GgufFormatException {
        int id = vocab.id(text);
        if (id < 0) {
            throw new GgufFormatException(Vocabulary.MERGES + " entry " + rank + " '" + merge + "' names '" + text
                    + "', which is not a token of the vocabulary");
        }
        return id;
    }

    private static long pair(int left, int right) {
        return (long) left << 32 | right;
    }

    private int rank(int left, int right) {
        return left < 0 || right < 0 ? -1 : ranks.get(pair(left, right), -1);
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        int[] cps = text.codePoints().toArray();
        IntList ends = new IntList();
        pre.split(cps, cps.length, ends);
        Word word = new Word();
        int start = 0;
        for (int i = 0; i < ends.size(); i++) {
            word.tokenize(cps, start, ends.get(i), out);
            start = ends.get(i);
        }
    }

    /**
     * llama.cpp's {@code llama_decode_text}: each character of the piece is one byte; a character that stands
     * for none comes out as {@code [UNK_BYTE_0x..]} with its UTF-8 in hex and the piece.
     */
    @Override
    byte[] normalText(String piece) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(piece.length());
        piece.codePoints().forEach(c -> {
            int b = ByteLevel.byteOf(c);
            if (b >= 0) {
                bytes.write(b);
            } else {
                StringBuilder unknown = new StringBuilder("[UNK_BYTE_0x");
                for (byte u : Character.toString(c).getBytes(StandardCharsets.UTF_8)) {
                    unknown.append(String.format("%02x", u & 0xFF));
                }
                bytes.writeBytes(unknown.append(piece).append(']').toString().getBytes(StandardCharsets.UTF_8));
            }
        });
        return bytes.toByteArray();
    }

    /**
     * The merge loop over one word, reused from word to word. The symbols are a linked list over the word's
     * bytes; a queue holds every adjacent pair that is a merge, keyed by rank then left position. A queued
     * pair is stale when either side has changed since; it is recognised by its rank no longer being the rank
     * of the pair now at that position (each rank belongs to one pair of texts).
     */
    private final class Word {
        private byte[] bytes = new byte[64];
        private int length;
        private int[] ids = new int[64];
        private int[] sizes = new int[64];
        private int[] prev = new int[64];
        private int[] next = new int[64];
        private long[] queue = new long[64];
        private int queued;

        void tokenize(int[] cps, int from, int to, IntList out) {
            length = 0;
            for (int i = from; i < to; i++) {
                appendUtf8(cps[i]);
            }
            if (pre.ignoreMerges) {
                int whole = vocab.id(ByteLevel.encode(bytes, 0, length));
                if (whole >= 0) {
                    out.add(whole);
                    return;
                }
            }
            if (ids.length < length) {
                ids = new int[length];
                sizes = new int[length];
                prev = new int[length];
                next = new int[length];
            }
            for (int i = 0; i < length; i++) {
                ids[i] = byteTokens[bytes[i] & 0xFF];
                sizes[i] = 1;
                prev[i] = i - 1;
                next[i] = i + 1 < length ? i + 1 : -1;
            }
            queued = 0;
            for (int i = 1; i < length; i++) {
                offer(i - 1, i);
            }
            while (queued > 0) {
                long top = poll();
                int left = (int) top;
                int rank = (int) (top >>> 32);
                int right = sizes[left] == 0 ? -1 : next[left];
                if (right < 0 || rank(ids[left], ids[right]) != rank) {
                    continue;
                }
                ids[left] = merged[rank];
                sizes[left] += sizes[right];
                sizes[right] = 0;
                next[left] = next[right];
                if (next[left] >= 0) {
                    prev[next[left]] = left;
                }
                offer(prev[left], left);
                offer(left, next[left]);
            }
            for (int i = 0; i != -1; i = next[i]) {
                if (ids[i] >= 0) {
                    out.add(ids[i]);
                    continue;
                }
                // llama.cpp looks each byte of the symbol's spelling up as a one-byte text: only ASCII can match
                for (int k = i; k < i + sizes[i]; k++) {
                    int b = bytes[k] & 0xFF;
                    if (ByteLevel.charOf(b) < 0x80 && byteTokens[b] >= 0) {
                        out.add(byteTokens[b]);
                    }
                }
            }
        }

        private void appendUtf8(int cp) {
            if (length + 4 > bytes.length) {
                bytes = Arrays.copyOf(bytes, 2 * bytes.length);
            }
            if (cp < 0x80) {
                bytes[length++] = (byte) cp;
            } else if (cp < 0x800) {
                bytes[length++] = (byte) (0xC0 | cp >> 6);
                bytes[length++] = (byte) (0x80 | cp & 0x3F);
            } else if (cp < 0x10000) {
                bytes[length++] = (byte) (0xE0 | cp >> 12);
                bytes[length++] = (byte) (0x80 | cp >> 6 & 0x3F);
                bytes[length++] = (byte) (0x80 | cp & 0x3F);
            } else {
                bytes[length++] = (byte) (0xF0 | cp >> 18);
                bytes[length++] = (byte) (0x80 | cp >> 12 & 0x3F);
                bytes[length++] = (byte) (0x80 | cp >> 6 & 0x3F);
                bytes[length++] = (byte) (0x80 | cp & 0x3F);
            }
        }

        /** Queues the pair at {@code left}, {@code right} if it is a merge. */
        private void offer(int left, int right) {
            if (left < 0 || right < 0) {
                return;
            }
            int rank = rank(ids[left], ids[right]);
            if (rank < 0) {
                return;
            }
            if (queued == queue.length) {
                queue = Arrays.copyOf(queue, 2 * queued);
            }
            // a binary min-heap: rank first, then the leftmost pair
            long key = (long) rank << 32 | left;
            int i = queued++;
            while (i > 0 && queue[(i - 1) >>> 1] > key) {
                queue[i] = queue[(i - 1) >>> 1];
                i = (i - 1) >>> 1;
            }
            queue[i] = key;
        }

        private long poll() {
            long top = queue[0];
            long last = queue[--queued];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= queued) {
                    break;
                }
                if (child + 1 < queued && queue[child + 1] < queue[child]) {
                    child++;
                }
                if (queue[child] >= last) {
                    break;
                }
                queue[i] = queue[child];
                i = child;
            }
            queue[i] = last;
            return top;
        }
    }
}
