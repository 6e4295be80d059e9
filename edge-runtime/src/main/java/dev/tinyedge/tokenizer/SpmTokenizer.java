package dev.tinyedge.tokenizer;

import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;

import java.nio.charset.StandardCharsets;

/**
 * SentencePiece ({@code tokenizer.ggml.model = llama}) as llama.cpp's SPM session runs it: a stretch of text
 * gets a leading space when it starts the text or follows a special token (unless the file sets
 * {@code add_space_prefix} to false, as Gemma's do), its spaces become {@code ▁}, and {@link SpmMerger}
 * merges it by score.
 */
final class SpmTokenizer extends Tokenizer {
    /** llama.cpp's SentencePiece defaults: unknown 0, BOS 1, EOS 2, BOS added, space prefix on. */
    private static final Vocabulary.Defaults DEFAULTS = new Vocabulary.Defaults(1, 2, 0, true, true);

    private SpmTokenizer(Vocabulary vocab) {
        super(vocab);
    }

    static SpmTokenizer load(GgufFile file) throws GgufFormatException {
        return new SpmTokenizer(Vocabulary.fromGguf(file, DEFAULTS));
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        String prefixed = vocab.addSpacePrefix && afterSpecial ? " " + text : text;
        SpmMerger.tokenize(vocab, prefixed.replace(' ', SPACE), out);
    }

    @Override
    byte[] normalText(String piece) {
        return piece.replace(SPACE, ' ').getBytes(StandardCharsets.UTF_8);
    }
}
