package dev.tinyedge.tokenizer;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Turns generated tokens into text as they arrive. A character split over several byte tokens
 * ({@code <0xE4>}, {@code <0xB8>}, {@code <0x96>}) is held back until its last byte arrives, so every
 * returned string is whole UTF-8; bytes that can never form a character come out as U+FFFD.
 *
 * <p>Each token's text is llama.cpp's {@code token_to_piece} with special tokens not rendered: control
 * tokens give nothing, and a piece's leading space is kept (a stream continues a prompt that began with
 * BOS, where llama.cpp keeps it too). Not thread-safe: one decoder per generation.
 */
public final class Utf8StreamDecoder {
    private final Tokenizer tokenizer;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    /** Bytes of a character whose end has not arrived yet (at most 3). */
    private byte[] pending = new byte[0];

    Utf8StreamDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /** The text this token completes; empty while a character is still incomplete. */
    public String feed(int token) {
        byte[] piece = tokenizer.textBytes(token);
        if (piece.length == 0) {
            return "";
        }
        ByteBuffer in = ByteBuffer.allocate(pending.length + piece.length).put(pending).put(piece).flip();
        CharBuffer out = CharBuffer.allocate(in.remaining());
        utf8.decode(in, out, false);
        pending = new byte[in.remaining()];
        in.get(pending);
        return out.flip().toString();
    }

    /** Ends the stream: returns what is still held back (an incomplete character becomes U+FFFD) and resets. */
    public String flush() {
        CharBuffer out = CharBuffer.allocate(pending.length + 1);
        utf8.decode(ByteBuffer.wrap(pending), out, true);
        utf8.flush(out);
        utf8.reset();
        pending = new byte[0];
        return out.flip().toString();
    }
}
