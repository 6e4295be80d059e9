package dev.tinyedge.engine;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.gguf.GgufFile;
import dev.tinyedge.gguf.GgufFormatException;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import dev.tinyedge.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A loaded model ready to run: the mapped GGUF file, its tokenizer and a backend with its KV cache. Sequences
 * run in {@link Session}s, each owning a slot of the KV cache; the backend has one slot today, so one session
 * at a time. Not thread-safe: one forward pass at a time.
 */
public final class Engine implements AutoCloseable {
    private final GgufFile file;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final String modelName;
    /** The session that owns the backend's KV cache, or null. */
    private Session session;

    private Engine(GgufFile file, ModelConfig config, Tokenizer tokenizer, Backend backend, String modelName) {
        this.file = file;
        this.config = config;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.modelName = modelName;
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
            Backend backend = Backend.load(options.backend(), weights, context, options.resolvedThreads());
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

    /**
     * Opens a session on the KV cache.
     *
     * @throws IllegalStateException while another session holds it
     */
    public Session openSession() {
        if (session != null) {
            throw new IllegalStateException("the KV cache is held by another session: close it first");
        }
        session = new Session(this, 0);
        return session;
    }

    void release(Session closing) {
        if (session == closing) {
            session = null;
        }
    }

    /** Evaluates tokens for a session in its slot of the KV cache (see {@link #forward}). */
    float[] evaluate(int slot, int[] tokens, int count, int startPos) {
        return backend.forward(tokens, count, startPos);
    }

    /**
     * Evaluates tokens[0..count) at positions startPos.. outside any session (logits of a prompt, parity
     * checks): KV cache entries at >= startPos are overwritten, those below are kept. Returns the logits of the
     * last token (a buffer reused by the next call).
     *
     * @throws IllegalStateException while a session holds the KV cache
     */
    public float[] forward(int[] tokens, int count, int startPos) {
        if (session != null) {
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
