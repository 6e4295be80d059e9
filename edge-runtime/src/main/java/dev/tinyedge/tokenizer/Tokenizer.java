package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The tokenizer of a GGUF model, giving the same ids as llama.cpp's {@code llama_tokenize} and the same text
 * as its token pieces. The file's {@code tokenizer.ggml.model} picks the algorithm: {@link SpmTokenizer}
 * (SentencePiece, {@code llama}: Llama 2, Gemma, EuroLLM, SalamandraTA) or {@link BpeTokenizer} (byte-level
 * BPE, {@code gpt2}: Llama 3, Qwen).
 *
 * <p>What both share is here: special tokens are split out of the text first (control and unknown tokens
 * only when {@code parseSpecial}; user-defined tokens always), the algorithm tokenizes each stretch of text
 * between them, and BOS and EOS are added as the vocabulary asks.
 */
public abstract sealed class Tokenizer permits SpmTokenizer, BpeTokenizer {
    /** U+2581, SentencePiece's stand-in for a space inside pieces. */
    static final char SPACE = '\u2581';

    final Vocabulary vocab;
    private final SpecialTokens specials;

    Tokenizer(Vocabulary vocab) {
        this.vocab = vocab;
        this.specials = new SpecialTokens(vocab.pieces, vocab.types);
    }

    /** Reads the tokenizer from the file's metadata; a missing, unknown or inconsistent one is a format error. */
    public static Tokenizer fromGguf(GgufFile file) throws GgufFormatException {
        String model = Vocabulary.model(file);
        return switch (model) {
            case "llama" -> SpmTokenizer.load(file);
            case "gpt2" -> BpeTokenizer.load(file);
            default -> throw new GgufFormatException(Vocabulary.MODEL + " is '" + model
                    + "': tinyedge tokenizes 'llama' (SentencePiece) and 'gpt2' (byte-level BPE) vocabularies");
        };
    }

    /**
     * Tokenizes {@code text}. {@code addSpecial} adds what the model asks for around a sequence, as llama.cpp's
     * {@code add_special} does: BOS when the vocabulary adds one, EOS when {@code add_eos_token}. With
     * {@code parseSpecial} false, text such as {@code </s>} or {@code <|im_end|>} stays plain text, so user
     * input can never inject a control token.
     */
    public final int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        IntList out = new IntList();
        if (addSpecial && vocab.addBos) {
            out.add(vocab.bos);
        }
        boolean afterSpecial = true; // the text's start counts as following a special token
        for (SpecialTokens.Fragment fragment : specials.partition(wellFormed(text), parseSpecial)) {
            switch (fragment) {
                case SpecialTokens.Special s -> {
                    out.add(s.token());
                    afterSpecial = true;
                }
                case SpecialTokens.Text t -> {
                    encodeText(t.text(), afterSpecial, out);
                    afterSpecial = false;
                }
            }
        }
        if (addSpecial && vocab.addEos) {
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /** Appends the tokens of one stretch of text that holds no special token. */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** The bytes a normal token stands for in text. */
    abstract byte[] normalText(String piece);

    /**
     * The text of a whole sequence: each token's piece as llama.cpp's {@code token_to_piece} gives it with
     * special tokens not rendered, and, as its {@code llama_detokenize}, without the space a SentencePiece
     * vocabulary put before the first word. When the sequence starts with BOS, the BOS takes that place and
     * the following space stays. llama_detokenize's optional clean-up of spaces before punctuation is not
     * applied: the text is what generation streams, piece after piece, as llama.cpp's server returns it.
     */
    public final String decode(int[] tokens) {
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
    public final Utf8StreamDecoder streamDecoder() {
        return new Utf8StreamDecoder(this);
    }

    /** The BOS token, or -1 when the vocabulary has none. */
    public final int bos() {
        return vocab.bos;
    }

    /** The EOS token, or -1 when the vocabulary has none. */
    public final int eos() {
        return vocab.eos;
    }

    /** Whether a sequence starts with BOS ({@code tokenizer.ggml.add_bos_token}, or the tokenizer's default). */
    public final boolean addsBos() {
        return vocab.addBos;
    }

    public final int vocabSize() {
        return vocab.size();
    }

    /**
     * Whether generating this token ends the answer, as llama.cpp's {@code llama_vocab_is_eog}: EOS, the EOT
     * and EOM the file names, and every token whose text llama.cpp knows as an end of turn ({@code <|im_end|>},
     * {@code <end_of_turn>}, {@code <|eot_id|>}, {@code <|endoftext|>}, {@code </s>}, ...).
     */
    public final boolean isEndOfGeneration(int id) {
        checkId(id);
        return vocab.endsGeneration(id);
    }

    /** The token's entry in the vocabulary as stored, e.g. {@code ▁Hello}, {@code ĠHello}, {@code </s>}. */
    public final String piece(int id) {
        checkId(id);
        return vocab.pieces[id];
    }

    /** Whether the token is a control token (as llama.cpp corrects the file's types). */
    public final boolean isControl(int id) {
        checkId(id);
        return vocab.types[id] == TokenType.CONTROL;
    }

    /** The bytes a token contributes to decoded text: none for control tokens, one for a byte token. */
    final byte[] textBytes(int id) {
        checkId(id);
        String piece = vocab.pieces[id];
        return switch (vocab.types[id]) {
            case NORMAL -> normalText(piece);
            case USER_DEFINED -> piece.getBytes(StandardCharsets.UTF_8);
            case BYTE -> new byte[] {(byte) Vocabulary.parseByte(piece)};
            case CONTROL, UNKNOWN, UNUSED, UNDEFINED -> new byte[0];
        };
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary (0.." + (vocab.size() - 1) + ")");
        }
    }

    /**
     * Replaces unpaired surrogates, which have no UTF-8 form, with U+FFFD: what llama.cpp receives from a
     * UTF-8 encoder that replaces them (node's) and what it makes of invalid UTF-8 itself.
     */
    private static String wellFormed(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (Character.isSurrogate(text.charAt(i))) {
                StringBuilder out = new StringBuilder(text.length());
                text.codePoints().forEach(cp -> out.appendCodePoint(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp));
                return out.toString();
            }
        }
        return text;
    }
}
