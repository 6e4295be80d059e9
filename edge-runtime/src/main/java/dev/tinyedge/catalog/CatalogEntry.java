package dev.tinyedge.catalog;

import dev.tinyedge.board.ModelShape;
import dev.tinyedge.tensor.GgmlType;

import java.util.List;
import java.util.Map;

/**
 * One model of the catalog ({@code models.toml}): where its GGUF files are, what it is, what its licence allows,
 * and the hyper-parameters the memory planner needs to say which board it fits before it is downloaded.
 *
 * @param name         what users type: {@code tinyedge pull NAME}, {@code serve --model NAME}
 * @param repo         the Hugging Face repository holding the GGUF files
 * @param architecture {@code general.architecture} of the files (llama, qwen2, qwen3, gemma3)
 * @param languages    ISO 639-1 codes the model card names
 * @param licence      the licence's name
 * @param restrictions what the licence asks of a user beyond attribution, in a sentence
 * @param prompt       how tinyedge prompts it (the prompt format its chat template selects)
 * @param source       where each fact came from
 * @param unverified   the facts that could not be checked against the repository itself
 * @param defaultQuant the file {@code pull NAME} takes when no quantization is named
 * @param parameters   parameter count, from the model card
 * @param files        quantization name to file
 */
public record CatalogEntry(String name, String repo, String architecture, List<String> languages, String licence,
                           String restrictions, String prompt, String source, String unverified, String defaultQuant, long parameters,
                           Shape shape, Map<String, QuantFile> files) {

    /**
     * The hyper-parameters of the model's config.json.
     *
     * @param context the trained context length in tokens
     */
    public record Shape(int layers, int embedding, int feedForward, int heads, int kvHeads, int vocab, int context) {
    }

    /** A GGUF file of the repository; the size as the repository listed it, in MB (10^6 bytes). */
    public record QuantFile(String file, long sizeMb) {
    }

    public QuantFile file(String quant) {
        return files.get(quant);
    }

    /** The numbers the memory planner takes, for this model's file of {@code quant}. */
    public ModelShape modelShape(String quant) {
        QuantFile file = files.get(quant);
        return new ModelShape(name, shape.layers(), shape.embedding(), shape.feedForward(), shape.heads(),
                shape.kvHeads(), shape.vocab(), shape.context(), file.sizeMb() * 1_000_000L, parameters,
                mainType(quant));
    }

    /** The tensor type holding most of a quantization's bytes: Q4_K for Q4_K_M, Q8_0 for Q8_0. */
    static GgmlType mainType(String quant) {
        String type = quant.replaceFirst("_[SML]$", "");
        return GgmlType.valueOf(type);
    }
}
