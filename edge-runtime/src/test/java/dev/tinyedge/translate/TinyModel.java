package dev.tinyedge.translate;

import dev.tinyedge.gguf.GgufWriter;
import dev.tinyedge.model.SyntheticModel;
import dev.tinyedge.tensor.GgmlType;
import dev.tinyedge.tokenizer.SynthVocabulary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model the service's end-to-end tests run on: the synthetic {@code tiny} preset in Q4_0 with TinyLlama's
 * vocabulary and chat template (what {@code tinyedge synth --preset tiny --type q4_0} writes). Its weights are
 * random, so its translations are random text: the tests check the protocol, not the wording.
 */
public final class TinyModel {
    private static Path file;

    private TinyModel() {
    }

    public static synchronized Path path() {
        if (file == null) {
            try {
                Path dir = Files.createTempDirectory("tinyedge-tiny");
                file = dir.resolve("tiny-q4_0.gguf");
                GgufWriter writer = SyntheticModel.writer(SyntheticModel.TINY, GgmlType.Q4_0, 7);
                SynthVocabulary.load().writeTo(writer);
                writer.write(file);
                file.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }
}
