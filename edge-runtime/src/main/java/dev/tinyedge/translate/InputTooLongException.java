package dev.tinyedge.translate;

/** The text does not fit the model's context together with the prompt and room for the answer. */
public final class InputTooLongException extends RuntimeException {
    public InputTooLongException(String message) {
        super(message);
    }
}
