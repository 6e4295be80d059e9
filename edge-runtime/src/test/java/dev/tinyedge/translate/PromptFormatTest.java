package dev.tinyedge.translate;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptFormatTest {
    /** TinyLlama-1.1B-Chat-v1.0's tokenizer.chat_template, verbatim. */
    static final String TINYLLAMA_TEMPLATE = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
            + "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
            + "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
            + "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
            + "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    @Test
    void recognisesTheCommonFamilies() {
        assertEquals(PromptFormat.ZEPHYR, PromptFormat.detect(TINYLLAMA_TEMPLATE));
        assertEquals(PromptFormat.CHATML, PromptFormat.detect(
                "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"));
        assertEquals(PromptFormat.LLAMA2, PromptFormat.detect(
                "{{ bos_token + '[INST] ' + message['content'] + ' [/INST]' }}"));
        assertEquals(PromptFormat.LLAMA3, PromptFormat.detect(
                "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}"));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect(null));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect(""));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect("{{ messages[0]['content'] }}"));
    }

    @Test
    void namesSourceAndTargetInTheUserMessage() {
        Language en = Language.of("en").orElseThrow();
        Language es = Language.of("es").orElseThrow();
        assertEquals("Translate this text from English into Spanish:\nHello",
                PromptFormat.ZEPHYR.userMessage("Hello", en, es));
        assertTrue(PromptFormat.ZEPHYR.userMessage("Hello", null, es).startsWith("Detect the language"));
        assertEquals("Text: Hello\nSpanish:", PromptFormat.PLAIN.userMessage("Hello", null, es));
    }

    @Test
    void hasAtLeastThirtyLanguages() {
        assertTrue(Language.codes().size() >= 30);
        assertEquals("German", Language.of("DE").orElseThrow().name());
        assertTrue(Language.of("xx").isEmpty());
        assertTrue(Language.codes().stream().allMatch(c -> c.matches("[a-z]{2}")));
    }
}
