package dev.tinyedge.cli;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFormatException;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** The options every command that runs a model shares: --model, --threads, --backend. */
final class EngineArguments {
    @Option(names = "--model", required = true, paramLabel = "MODEL", description = "GGUF model file")
    Path model;

    @Option(names = "--threads", defaultValue = "0", paramLabel = "N", description = "CPU threads (default: one per core)")
    int threads;

    @Option(names = "--backend", defaultValue = "cpu", paramLabel = "cpu|opencl", description = "where to run (default: ${DEFAULT-VALUE})")
    String backend;

    EngineOptions options() {
        return options(0);
    }

    /** With a context of {@code contextLength} tokens (0: the model's). */
    EngineOptions options(int contextLength) {
        if (threads < 0) {
            throw new Main.UsageException("--threads must be 0 (auto) or more, got " + threads);
        }
        if (!backend.equals("cpu") && !backend.equals("opencl")) {
            throw new Main.UsageException("--backend must be cpu or opencl, got '" + backend + "'");
        }
        return new EngineOptions(contextLength, threads, backend);
    }

    Engine load() throws IOException {
        return load(0);
    }

    Engine load(int contextLength) throws IOException {
        try {
            return Engine.load(model, options(contextLength));
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(model, e);
        }
    }
}
