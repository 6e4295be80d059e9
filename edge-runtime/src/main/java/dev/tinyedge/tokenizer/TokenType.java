package dev.tinyedge.tokenizer;

/** The kinds of vocabulary entries, by the ids {@code tokenizer.ggml.token_type} stores. */
enum TokenType {
    /** Any id outside 1..6; llama.cpp treats such tokens as producing no text. */
    UNDEFINED(0),
    NORMAL(1),
    UNKNOWN(2),
    CONTROL(3),
    USER_DEFINED(4),
    UNUSED(5),
    /** {@code <0xNN>}: one raw byte, the fallback for characters that have no token. */
    BYTE(6);

    final int id;

    TokenType(int id) {
        this.id = id;
    }

    static TokenType fromId(int id) {
        for (TokenType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return UNDEFINED;
    }

    /** Tokens that are split out of the text before the merges run (when special parsing allows). */
    boolean isSpecial() {
        return this == CONTROL || this == USER_DEFINED || this == UNKNOWN;
    }
}
