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
        assertEquals(PromptFormat.GEMMA, PromptFormat.detect(
                "{{ bos_token }}{% for m in messages %}{{ '<start_of_turn>' + m['role'] + '\n' + m['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"));
        assertEquals(PromptFormat.CHATML_NO_THINKING, PromptFormat.detect("{{- '<|im_start|>assistant\n' }}"
                + "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\n\n</think>\n\n' }}{%- endif %}"));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect(null));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect(""));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect("{{ messages[0]['content'] }}"));
    }

    @Test
    void salamandraTaIsKnownByName() {
        String chatml = "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n'}}{% endfor %}";
        assertEquals(PromptFormat.SALAMANDRA_TA, PromptFormat.detect(chatml, "salamandraTA-2B"));
        assertEquals(PromptFormat.SALAMANDRA_TA, PromptFormat.detect(null, "SalamandraTA-2b.Q4_K_M"));
        assertEquals(PromptFormat.CHATML, PromptFormat.detect(chatml, "salamandraTA-2b-instruct"));
        assertEquals(PromptFormat.CHATML, PromptFormat.detect(chatml, "EuroLLM-1.7B-Instruct"));
        assertEquals(PromptFormat.PLAIN, PromptFormat.detect(null, null));
    }

    @Test
    void namesSourceAndTargetInTheUserMessage() {
        Language en = Language.of("en").orElseThrow();
        Language es = Language.of("es").orElseThrow();
        assertEquals("Translate this text from English into Spanish:\nHello",
                PromptFormat.ZEPHYR.userMessage("Hello", en, es));
        assertTrue(PromptFormat.ZEPHYR.userMessage("Hello", null, es).startsWith("Detect the language"));
        assertEquals("Text: Hello\nSpanish:", PromptFormat.PLAIN.userMessage("Hello", null, es));
        // SalamandraTA-2B's prompt, as BSC-LT's demo writes it; without a source the line has no tag
        assertEquals("[English] Hello \n[Spanish]", PromptFormat.SALAMANDRA_TA.userMessage("Hello", en, es));
        assertEquals("Hello \n[Spanish]", PromptFormat.SALAMANDRA_TA.userMessage("Hello", null, es));
        assertEquals("", PromptFormat.SALAMANDRA_TA.instructions());
    }

    @Test
    void hasAtLeastThirtyLanguages() {
        assertTrue(Language.codes().size() >= 30);
        assertEquals("German", Language.of("DE").orElseThrow().name());
        assertTrue(Language.of("xx").isEmpty());
        assertTrue(Language.codes().stream().allMatch(c -> c.matches("[a-z]{2}")));
    }
}
