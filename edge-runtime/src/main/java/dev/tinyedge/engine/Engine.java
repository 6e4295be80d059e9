package dev.tinyedge.engine;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.backend.Batch;
import dev.tinyedge.board.KvCacheType;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tokenizer.Tokenizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded model ready to run: the mapped GGUF file, its tokenizer and a backend with its KV cache. Sequences
 * run in {@link Session}s, each owning a slot of the KV cache: as many sessions at once as the backend has slots
 * (the CPU backend as many as {@link EngineOptions#parallel} asks, OpenCL one). A {@link Scheduler} steps
 * several sessions through one batched pass. Not thread-safe: one forward pass at a time.
 */
public final class Engine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Engine.class);
    /** The OpenCL backend's KV-cache type ("f16" or "f32"), which its provider reads when it loads. */
    private static final String OPENCL_KV_PROPERTY = "tinyedge.opencl.kv";
    private final GgufFile file;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final String modelName;
    /** Per slot of the backend's KV cache, the session that owns it, or null. */
    private final Session[] sessions;

    private Engine(GgufFile file, ModelConfig config, Tokenizer tokenizer, Backend backend, String modelName) {
        this.file = file;
        this.config = config;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.modelName = modelName;
        this.sessions = new Session[backend.slots()];
    }

    public static Engine load(Path model, EngineOptions options) throws IOException, GgufFormatException {
        GgufFile file = GgufFile.open(model);
        try {
            ModelWeights weights = ModelWeights.load(file);
            Tokenizer tokenizer = Tokenizer.fromGguf(file);
            ModelConfig config = weights.config();
            if (tokenizer.vocabSize() != config.vocabSize()) {
                // llama.cpp sizes the embedding by the vocabulary and refuses the file the same way
                throw new GgufFormatException("tensor '" + ModelWeights.TOKEN_EMBEDDING + "' has " + config.vocabSize()
                        + " rows, but the vocabulary has " + tokenizer.vocabSize() + " tokens");
            }
            if (options.contextLength() > config.contextLength()) {
                throw new IllegalArgumentException("context length " + options.contextLength()
                        + " exceeds the model's " + config.contextLength());
            }
            int context = options.contextLength() > 0 ? options.contextLength() : config.contextLength();
            if (!options.backend().equals("cpu") && options.kvCache() != null
                    && System.getProperty(OPENCL_KV_PROPERTY) == null) {
                System.setProperty(OPENCL_KV_PROPERTY, options.kvCache().toString()); // -D given by hand wins
            }
            Backend backend = Backend.load(options.backend(), weights, context, options.resolvedThreads(),
                    options.parallel(), options.kvCache() == KvCacheType.F16);
            if (backend.slots() < options.parallel()) {
                log.info("the {} backend keeps one KV-cache slot: one sequence at a time, not the {} asked for",
                        backend.name(), options.parallel());
            }
            String fileName = model.getFileName().toString();
            String name = file.getString("general.name",
                    fileName.endsWith(".gguf") ? fileName.substring(0, fileName.length() - ".gguf".length()) : fileName);
            return new Engine(file, config, tokenizer, backend, name);
        } catch (IOException | GgufFormatException | RuntimeException | Error e) {
            file.close();
            throw e;
        }
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public ModelConfig config() {
        return config;
    }

    /** general.name, or the file name without .gguf. */
    public String modelName() {
        return modelName;
    }

    /** The backend that actually runs: "cpu" after an OpenCL fallback, whatever was asked for. */
    public String backendName() {
        return backend.name();
    }

    public String backendDescription() {
        return backend.description();
    }

    /** See {@link Backend#memoryTraffic()}: measures the backend's copy bandwidth now. */
    public Optional<Backend.MemoryTraffic> memoryTraffic() {
        return backend.memoryTraffic();
    }

    public int contextLength() {
        return backend.contextLength();
    }

    /** Sequences the KV cache holds at once: how many sessions may be open together. */
    public int slots() {
        return sessions.length;
    }

    /**
     * Opens a session on a free slot of the KV cache.
     *
     * @throws IllegalStateException while other sessions hold every slot
     */
    public Session openSession() {
        for (int slot = 0; slot < sessions.length; slot++) {
            if (sessions[slot] == null) {
                sessions[slot] = new Session(this, slot);
                return sessions[slot];
            }
        }
        throw new IllegalStateException("the KV cache is held by another session: close it first"
                + (sessions.length == 1 ? "" : " (all " + sessions.length + " slots are held)"));
    }

    void release(Session closing) {
        if (sessions[closing.slot()] == closing) {
            sessions[closing.slot()] = null;
        }
    }

    /** Evaluates tokens for a session in its slot of the KV cache (see {@link #forward}). */
    float[] evaluate(int slot, int[] tokens, int count, int startPos) {
        return backend.forward(slot, tokens, count, startPos);
    }

    /** Evaluates one step of several sessions' tokens in one pass (see {@link Backend#forward(Batch)}). */
    float[] evaluate(Batch step) {
        return backend.forward(step);
    }

    /** Tokens one step may hold. */
    int maxBatch() {
        return backend.maxBatch();
    }

    /** Copies what one slot holds at positions [0, length) into another. */
    void copyPrefix(int from, int to, int length) {
        backend.copyPrefix(from, to, length);
    }

    /**
     * Evaluates tokens[0..count) at positions startPos.. outside any session (logits of a prompt, parity
     * checks): KV cache entries at >= startPos are overwritten, those below are kept. Returns the logits of the
     * last token (a buffer reused by the next call).
     *
     * @throws IllegalStateException while a session holds the KV cache's first slot, where this evaluates
     */
    public float[] forward(int[] tokens, int count, int startPos) {
        if (sessions[0] != null) {
            throw new IllegalStateException("the KV cache is held by a session");
        }
        return backend.forward(tokens, count, startPos);
    }

    /** See {@link Backend#limitThreads}. */
    public void limitThreads(int threads) {
        backend.limitThreads(threads);
    }

    @Override
    public void close() {
        backend.close();
        file.close();
    }
}
