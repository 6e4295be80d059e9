package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * PLACEHOLDER so the engine compiles and runs before the real SentencePiece tokenizer lands; the
 * tokenizer branch replaces this whole file. It encodes every UTF-8 byte as its byte token {@code <0xNN>}
 * and does no merges, so its token ids are NOT llama.cpp's.
 */
public final class Tokenizer {
    private final String[] pieces;
    private final int[] types;
    private final Map<Integer, Integer> byteTokens = new HashMap<>();
    private final int[] byteValues; // per token: the byte of a <0xNN> token, else -1
    private final int bos;
    private final int eos;

    private Tokenizer(String[] pieces, int[] types, int bos, int eos) {
        this.pieces = pieces;
        this.types = types;
        this.bos = bos;
        this.eos = eos;
        this.byteValues = new int[pieces.length];
        for (int id = 0; id < pieces.length; id++) {
            byteValues[id] = -1;
            if (pieces[id].length() == 6 && pieces[id].startsWith("<0x") && pieces[id].endsWith(">")) {
                byteValues[id] = Integer.parseInt(pieces[id].substring(3, 5), 16);
                byteTokens.put(byteValues[id], id);
            }
        }
    }

    public static Tokenizer fromGguf(GgufFile file) throws GgufFormatException {
        if (!(file.get("tokenizer.ggml.tokens") != null && file.get("tokenizer.ggml.tokens").value() instanceof String[] pieces)) {
            throw new GgufFormatException("metadata key 'tokenizer.ggml.tokens' is missing", 0);
        }
        int[] types = file.get("tokenizer.ggml.token_type") != null
                && file.get("tokenizer.ggml.token_type").value() instanceof int[] t ? t : new int[pieces.length];
        return new Tokenizer(pieces, types, (int) file.getLong("tokenizer.ggml.bos_token_id", 1),
                (int) file.getLong("tokenizer.ggml.eos_token_id", 2));
    }

    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length + (addBos ? 1 : 0)];
        int n = 0;
        if (addBos) {
            ids[n++] = bos;
        }
        for (byte b : bytes) {
            ids[n++] = byteTokens.getOrDefault(b & 0xff, 0);
        }
        return ids;
    }

    public String decode(int[] tokens) {
        Utf8StreamDecoder decoder = streamDecoder();
        StringBuilder text = new StringBuilder();
        for (int token : tokens) {
            text.append(decoder.feed(token));
        }
        return text.append(decoder.flush()).toString();
    }

    public Utf8StreamDecoder streamDecoder() {
        return new Utf8StreamDecoder();
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    public int vocabSize() {
        return pieces.length;
    }

    public String piece(int id) {
        return pieces[id];
    }

    public boolean isControl(int id) {
        return types[id] == 3;
    }

    /** Turns tokens into text, holding back incomplete UTF-8 sequences. */
    public final class Utf8StreamDecoder {
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        public String feed(int token) {
            if (isControl(token)) {
                return "";
            }
            String piece = pieces[token];
            if (byteValues[token] >= 0) {
                pending.write(byteValues[token]);
            } else {
                pending.writeBytes(piece.replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8));
            }
            byte[] bytes = pending.toByteArray();
            int complete = completePrefix(bytes);
            pending.reset();
            pending.write(bytes, complete, bytes.length - complete);
            return new String(bytes, 0, complete, StandardCharsets.UTF_8);
        }

        public String flush() {
            String rest = pending.toString(StandardCharsets.UTF_8);
            pending.reset();
            return rest;
        }

        private static int completePrefix(byte[] b) {
            int i = b.length;
            int back = 0;
            while (i > 0 && back < 4 && (b[i - 1] & 0xc0) == 0x80) {
                i--;
                back++;
            }
            if (i == 0) {
                return b.length;
            }
            int lead = b[i - 1] & 0xff;
            int need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
            return need == back + 1 ? b.length : i - 1;
        }
    }
}
