package dev.tinyedge.translate;

import java.util.List;

/**
 * The chat-prompt families tinyedge recognises in a model's {@code tokenizer.chat_template}. The template is
 * Jinja; rather than running it, tinyedge identifies the family by its turn markers and lays the prompt out
 * the way that family's template renders a system and a user message followed by the assistant's turn.
 *
 * <p>A layout is template text with the two slots {@code {system}} and {@code {user}}. Each of
 * {@link #markers} that is a control token in the model's vocabulary becomes that token; the rest of the
 * layout, markers the vocabulary lacks included, is tokenized as plain text.
 */
public enum PromptFormat {
    /** Zephyr, as TinyLlama-1.1B-Chat uses it; {@code </s>} is the end-of-sequence token. */
    ZEPHYR("<|system|>\n{system}</s>\n<|user|>\n{user}</s>\n<|assistant|>\n",
            List.of("<|system|>", "<|user|>", "<|assistant|>", "</s>")),
    /** ChatML (Qwen, OpenHermes, ...). */
    CHATML("<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n",
            List.of("<|im_start|>", "<|im_end|>")),
    /** Llama-2 chat: the system prompt sits inside the first instruction. */
    LLAMA2("[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]",
            List.of("[INST]", "[/INST]", "</s>")),
    /** Llama-3 instruct. */
    LLAMA3("<|start_header_id|>system<|end_header_id|>\n\n{system}<|eot_id|>"
            + "<|start_header_id|>user<|end_header_id|>\n\n{user}<|eot_id|>"
            + "<|start_header_id|>assistant<|end_header_id|>\n\n",
            List.of("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
    /**
     * A base model without a chat template: a few worked examples, then the request in the same form. The
     * examples are the shared prefix; the answer ends at the blank line that would start the next example.
     */
    PLAIN("{system}{user}", List.of("\n\n"));

    private final String layout;
    private final List<String> markers;

    PromptFormat(String layout, List<String> markers) {
        this.layout = layout;
        this.markers = markers;
    }

    /** The family of a chat template, {@link #PLAIN} when there is none or it is not one tinyedge knows. */
    public static PromptFormat detect(String chatTemplate) {
        if (chatTemplate == null || chatTemplate.isBlank()) {
            return PLAIN;
        }
        if (chatTemplate.contains("<|start_header_id|>")) {
            return LLAMA3;
        }
        if (chatTemplate.contains("<|im_start|>")) {
            return CHATML;
        }
        if (chatTemplate.contains("[INST]")) {
            return LLAMA2;
        }
        if (chatTemplate.contains("<|user|>") && chatTemplate.contains("<|assistant|>")) {
            return ZEPHYR;
        }
        return PLAIN;
    }

    String layout() {
        return layout;
    }

    /** Turn markers: control tokens where the vocabulary has them, and the stop strings of the answer. */
    List<String> markers() {
        return markers;
    }

    /** The instruction the prompt starts with (the system message, or the examples for {@link #PLAIN}). */
    String instructions() {
        if (this == PLAIN) {
            return """
                    Translate each text into the language named after it.

                    English: Where is the train station?
                    Spanish: ¿Dónde está la estación de tren?

                    German: Vielen Dank für Ihre Hilfe.
                    English: Thank you very much for your help.

                    French: Le magasin ouvre à neuf heures.
                    German: Der Laden öffnet um neun Uhr.

                    """;
        }
        return "You are a translation engine. Translate the user's text into the language the user asks for. "
                + "Reply with the translation only: no explanations, notes or quotes.";
    }

    /** The request's own part of the prompt. */
    String userMessage(String text, Language source, Language target) {
        if (this == PLAIN) {
            return (source == null ? "Text" : source.name()) + ": " + text + "\n" + target.name() + ":";
        }
        return (source == null
                ? "Detect the language of this text and translate it into " + target.name()
                : "Translate this text from " + source.name() + " into " + target.name())
                + ":\n" + text;
    }
}
