package dev.tinyedge.parity;

import dev.tinyedge.engine.Engine;
import dev.tinyedge.engine.EngineOptions;
import dev.tinyedge.gguf.GgufFormatException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/** The engines a parity test class loads, one per model file, each on one thread like the oracle's llama.cpp. */
final class Engines implements AutoCloseable {
    private final Map<Path, Engine> engines = new HashMap<>();

    private final Map<Path, Engine> halfCacheEngines = new HashMap<>();

    Engine of(Path model) throws IOException, GgufFormatException {
        Engine engine = engines.get(model);
        if (engine == null) {
            engine = Engine.load(model, new EngineOptions(0, 1, "cpu"));
            engines.put(model, engine);
        }
        return engine;
    }

    /** The model with an fp16 KV cache, as llama.cpp keeps by default. */
    Engine withHalfCache(Path model) throws IOException, GgufFormatException {
        Engine engine = halfCacheEngines.get(model);
        if (engine == null) {
            engine = Engine.load(model, new EngineOptions(0, 1, "cpu", 1, dev.tinyedge.board.KvCacheType.F16));
            halfCacheEngines.put(model, engine);
        }
        return engine;
    }

    @Override
    public void close() {
        engines.values().forEach(Engine::close);
        engines.clear();
        halfCacheEngines.values().forEach(Engine::close);
        halfCacheEngines.clear();
    }
}
