package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The SentencePiece tokenizer of a GGUF Llama model ({@code tokenizer.ggml.model = "llama"}), giving the
 * same ids as llama.cpp's {@code llama_tokenize} and the same text as its {@code llama_detokenize}.
 *
 * <p>Encoding: special tokens are split out of the text first (control and unknown tokens only when
 * {@code parseSpecial}; user-defined tokens always); each remaining fragment gets a leading space if it
 * starts the text or follows a special token (when the model adds a space prefix), its spaces become
 * {@code ▁}, and {@link SpmMerger} turns it into tokens.
 */
public final class Tokenizer {
    /** U+2581, SentencePiece's stand-in for a space inside pieces. */
    static final char SPACE = '\u2581';

    private final Vocabulary vocab;
    /** Tokens that partition the text before merging, longest text first so a longer match wins. */
    private final int[] specialTokens;
    /** Each token's detokenized text as UTF-8 bytes (control tokens: none). */
    private final byte[][] textBytes;

    Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.specialTokens = IntStream.range(0, vocab.size())
                .filter(id -> vocab.types[id].isSpecial())
                .boxed()
                .sorted(Comparator.comparingInt((Integer id) -> vocab.pieces[id].getBytes(StandardCharsets.UTF_8).length).reversed())
                .mapToInt(Integer::intValue)
                .toArray();
        this.textBytes = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            textBytes[id] = vocab.textBytes(id);
        }
    }

    /** Reads the vocabulary from the file's metadata; a missing or inconsistent tokenizer is a format error. */
    public static Tokenizer fromGguf(GgufFile file) throws GgufFormatException {
        return new Tokenizer(Vocabulary.fromGguf(file));
    }

    /**
     * Tokenizes {@code text}. {@code addBos} adds what the model asks for around a sequence, as llama.cpp's
     * {@code add_special} does: BOS when {@code tokenizer.ggml.add_bos_token} (default true), EOS when
     * {@code add_eos_token}. With {@code parseSpecial} false, text such as {@code </s>} stays plain text,
     * so user input can never inject a control token.
     */
    public int[] encode(String text, boolean addBos, boolean parseSpecial) {
        List<Integer> out = new ArrayList<>();
        if (addBos && vocab.addBos) {
            out.add(vocab.bos);
        }
        boolean afterSpecial = true; // the text's start counts as following a special token
        for (Fragment fragment : partition(wellFormed(text), parseSpecial)) {
            switch (fragment) {
                case Special s -> {
                    out.add(s.token());
                    afterSpecial = true;
                }
                case Text t -> {
                    String prefixed = vocab.addSpacePrefix && afterSpecial ? " " + t.text() : t.text();
                    SpmMerger.tokenize(vocab, prefixed.replace(' ', SPACE), out);
                    afterSpecial = false;
                }
            }
        }
        if (addBos && vocab.addEos) {
            out.add(vocab.eos);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The text of a whole sequence, as llama.cpp's {@code llama_detokenize} (special tokens not rendered):
     * the leading space of the first token is dropped, because encoding added it. When the sequence starts
     * with BOS, the BOS takes that place and the following space stays, as in llama.cpp.
     */
    public String decode(int[] tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean removeSpace = vocab.addSpacePrefix;
        for (int token : tokens) {
            byte[] text = textBytes(token);
            int skip = removeSpace && text.length > 0 && text[0] == ' ' ? 1 : 0;
            bytes.write(text, skip, text.length - skip);
            removeSpace = false;
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }

    /** A decoder for generated tokens that hands out text only once its UTF-8 bytes are complete. */
    public Utf8StreamDecoder streamDecoder() {
        return new Utf8StreamDecoder(this);
    }

    public int bos() {
        return vocab.bos;
    }

    public int eos() {
        return vocab.eos;
    }

    public int vocabSize() {
        return vocab.size();
    }

    /** The token's entry in the vocabulary as stored, e.g. {@code ▁Hello}, {@code <0x0A>}, {@code </s>}. */
    public String piece(int id) {
        checkId(id);
        return vocab.pieces[id];
    }

    public boolean isControl(int id) {
        checkId(id);
        return vocab.types[id] == TokenType.CONTROL;
    }

    /** The bytes a token contributes to decoded text: none for control tokens, one for a byte token. */
    byte[] textBytes(int id) {
        checkId(id);
        return textBytes[id];
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab.size() - 1) + ")");
        }
    }

    private sealed interface Fragment permits Text, Special {}

    private record Text(String text) implements Fragment {}

    private record Special(int token) implements Fragment {}

    /** Splits the text at every occurrence of a special token, longest tokens first. */
    private List<Fragment> partition(String text, boolean parseSpecial) {
        List<Fragment> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(new Text(text));
        for (int token : specialTokens) {
            if (!parseSpecial && vocab.types[token] != TokenType.USER_DEFINED) {
                continue;
            }
            String special = vocab.pieces[token];
            List<Fragment> split = new ArrayList<>(fragments.size());
            for (Fragment fragment : fragments) {
                if (!(fragment instanceof Text(String raw))) {
                    split.add(fragment);
                    continue;
                }
                int from = 0;
                for (int at = raw.indexOf(special); at >= 0; at = raw.indexOf(special, from)) {
                    if (at > from) {
                        split.add(new Text(raw.substring(from, at)));
                    }
                    split.add(new Special(token));
                    from = at + special.length();
                }
                if (from < raw.length()) {
                    split.add(new Text(raw.substring(from)));
                }
            }
            fragments = split;
        }
        return fragments;
    }

    /** Replaces unpaired surrogates, which have no UTF-8 form, the way Java's UTF-8 encoder does ('?'). */
    private static String wellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isSurrogate(text.charAt(i))) {
                return new String(text.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            }
        }
        return text;
    }
}
