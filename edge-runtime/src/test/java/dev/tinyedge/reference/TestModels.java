package dev.tinyedge.reference;

import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.gguf.GgufWriter;

import java.io.IOException;
import java.nio.file.Path;

/** Small synthetic models for tests. */
public final class TestModels {
    /**
     * Awkward on purpose: 6 heads of 16 over 2 KV heads (groups of 3), a hidden size of 5 blocks, and a
     * context longer than one prefill batch (64). Vocabulary of 300 keeps the output head small.
     */
    public static final SyntheticModel.Preset SMALL = new SyntheticModel.Preset("small",
            new ModelConfig(300, 96, 160, 2, 6, 2, 80, 1e-5f, 10000f), true);
    public static final SyntheticModel.Preset SMALL_TIED = new SyntheticModel.Preset("small-tied", SMALL.config(), false);

    private TestModels() {
    }

    /** Writes the model without tokenizer metadata (enough for ModelWeights). */
    public static Path write(Path dir, SyntheticModel.Preset preset, GgmlType type, long seed) throws IOException {
        Path out = dir.resolve(preset.name() + "-" + type + "-" + seed + ".gguf");
        SyntheticModel.writer(preset, type, seed).write(out);
        return out;
    }

    /** Writes the model with the synthetic vocabulary, as {@code tinyedge synth} does (for Engine). */
    public static Path writeWithVocabulary(Path dir, SyntheticModel.Preset preset, GgmlType type, long seed) throws IOException {
        Path out = dir.resolve(preset.name() + "-" + type + "-" + seed + "-vocab.gguf");
        GgufWriter writer = SyntheticModel.writer(preset, type, seed);
        SyntheticModel.writeVocabulary(preset, writer);
        writer.write(out);
        return out;
    }
}
