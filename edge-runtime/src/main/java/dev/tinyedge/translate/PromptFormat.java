package dev.tinyedge.translate;

import java.util.List;
import java.util.Locale;

/**
 * The prompt layouts tinyedge recognises in a model's {@code tokenizer.chat_template}. The template is Jinja;
 * rather than running it, tinyedge identifies the family by its turn markers and lays the prompt out the way
 * that family's template renders a system and a user message followed by the assistant's turn. BOS comes
 * first when the vocabulary adds one, as the templates' {@code bos_token} does.
 *
 * <p>A layout is template text with the two slots {@code {system}} and {@code {user}}. Each of
 * {@link #markers} that is a control token in the model's vocabulary becomes that token; the rest of the
 * layout, markers the vocabulary lacks included, is tokenized as plain text. Generation ends at the
 * vocabulary's end-of-generation tokens ({@code <|im_end|>}, {@code <end_of_turn>}, {@code <|eot_id|>}, EOS)
 * and, for markers the model can only write as text, at {@link PromptBuilder#stopStrings}.
 */
public enum PromptFormat {
    /** Zephyr, as TinyLlama-1.1B-Chat uses it; {@code </s>} is the end-of-sequence token. */
    ZEPHYR("<|system|>\n{system}</s>\n<|user|>\n{user}</s>\n<|assistant|>\n",
            List.of("<|system|>", "<|user|>", "<|assistant|>", "</s>")),
    /** ChatML: Qwen2.5, EuroLLM, OpenHermes, ... */
    CHATML("<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n",
            List.of("<|im_start|>", "<|im_end|>")),
    /**
     * ChatML of a model that can think first (Qwen3): the answer starts with the empty thinking block that its
     * template writes for {@code enable_thinking=false}, so the model translates at once.
     */
    CHATML_NO_THINKING("<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n"
            + "<|im_start|>assistant\n<think>\n\n</think>\n\n",
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
     * Gemma (2 and 3): no system turn; the template puts the system message at the top of the first user turn,
     * followed by a blank line. The model's turn is called {@code model}.
     */
    GEMMA("<start_of_turn>user\n{system}\n\n{user}<end_of_turn>\n<start_of_turn>model\n",
            List.of("<start_of_turn>", "<end_of_turn>")),
    /**
     * SalamandraTA-2B (BSC-LT), a translation model without chat turns: {@code [Source] text \n[Target]}, with
     * English language names, as BSC-LT's own demo prompts it (huggingface.co/spaces/BSC-LT/SalamandraTA-2B-Demo,
     * app.py: {@code prompt = f'[{source}] {sentence} \n[{target}]'}). The translation ends with EOS; a new
     * {@code \n[} would start another language line.
     */
    SALAMANDRA_TA("{system}{user}", List.of("\n[")),
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
        if (chatTemplate.contains("<start_of_turn>")) {
            return GEMMA;
        }
        if (chatTemplate.contains("<|im_start|>")) {
            return chatTemplate.contains("enable_thinking") ? CHATML_NO_THINKING : CHATML;
        }
        if (chatTemplate.contains("[INST]")) {
            return LLAMA2;
        }
        if (chatTemplate.contains("<|user|>") && chatTemplate.contains("<|assistant|>")) {
            return ZEPHYR;
        }
        return PLAIN;
    }

    /**
     * The format for a model: SalamandraTA's translation models other than the instruction-tuned ones are known
     * by name ({@code general.name} or the file name), since their files may carry Salamandra's generic chat
     * template, which they were not trained to answer; every other model by its chat template.
     */
    public static PromptFormat detect(String chatTemplate, String modelName) {
        String name = modelName == null ? "" : modelName.toLowerCase(Locale.ROOT);
        if (name.contains("salamandrata") && !name.contains("instruct")) {
            return SALAMANDRA_TA;
        }
        return detect(chatTemplate);
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
        return switch (this) {
            case PLAIN -> """
                    Translate each text into the language named after it.

                    English: Where is the train station?
                    Spanish: ¿Dónde está la estación de tren?

                    German: Vielen Dank für Ihre Hilfe.
                    English: Thank you very much for your help.

                    French: Le magasin ouvre à neuf heures.
                    German: Der Laden öffnet um neun Uhr.

                    """;
            case SALAMANDRA_TA -> "";
            default -> "You are a translation engine. Translate the user's text into the language the user asks for. "
                    + "Reply with the translation only: no explanations, notes or quotes.";
        };
    }

    /** The request's own part of the prompt. */
    String userMessage(String text, Language source, Language target) {
        return switch (this) {
            case PLAIN -> (source == null ? "Text" : source.name()) + ": " + text + "\n" + target.name() + ":";
            // the model knows no "detect the language": without a source, the line has no tag
            case SALAMANDRA_TA -> (source == null ? "" : "[" + source.name() + "] ") + text + " \n[" + target.name() + "]";
            default -> (source == null
                    ? "Detect the language of this text and translate it into " + target.name()
                    : "Translate this text from " + source.name() + " into " + target.name())
                    + ":\n" + text;
        };
    }
}
