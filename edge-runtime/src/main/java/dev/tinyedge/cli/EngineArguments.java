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
        if (threads < 0) {
            throw new Main.UsageException("--threads must be 0 (auto) or more, got " + threads);
        }
        if (!backend.equals("cpu") && !backend.equals("opencl")) {
            throw new Main.UsageException("--backend must be cpu or opencl, got '" + backend + "'");
        }
        return new EngineOptions(0, threads, backend);
    }

    Engine load() throws IOException {
        try {
            return Engine.load(model, options());
        } catch (GgufFormatException e) {
            throw new Main.ModelFileException(model, e);
        }
    }
}
