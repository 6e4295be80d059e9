package dev.tinyedge.opencl;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.backend.CpuBackend;
import dev.tinyedge.model.Features;
import dev.tinyedge.model.ModelConfig;
import dev.tinyedge.model.ModelWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Makes {@code --backend opencl} backends (registered for {@link java.util.ServiceLoader}). When OpenCL
 * cannot run the model here — no library, no platform or matching device, a kernel that does not
 * build, a device out of memory, a tensor type without kernels, a model whose block has an operation the
 * kernels lack ({@link #missingOperations}) — it logs one line and returns the CPU backend, unless
 * {@code -Dtinyedge.opencl.required=true} demands the device: then loading fails.
 * {@code -Dtinyedge.opencl.device=N|NAME} picks the device (see {@link OpenCl#select}).
 */
public final class OpenClBackendProvider implements Backend.Provider {
    private static final Logger log = LoggerFactory.getLogger(OpenClBackendProvider.class);

    @Override
    public String name() {
        return OpenClBackend.NAME;
    }

    @Override
    public Backend load(ModelWeights model, int contextLength, int threads) throws IOException {
        List<String> missing = missingOperations(model.config());
        if (!missing.isEmpty()) {
            String what = "OpenCL has no kernels for " + String.join(", ", missing) + " (" + model.config().architecture().ggufName + ")";
            if (Boolean.getBoolean("tinyedge.opencl.required")) {
                throw new IOException("OpenCL backend required (tinyedge.opencl.required) but unusable: " + what);
            }
            log.warn("{}, running on the CPU instead", what);
            return new CpuBackend(model, contextLength, threads);
        }
        try {
            OpenClBackend backend = OpenClBackend.open(model, contextLength, System.getProperty("tinyedge.opencl.device"));
            log.info("Backend: {}", backend.description());
            return backend;
        } catch (OpenClUnavailableException | ClException e) {
            if (Boolean.getBoolean("tinyedge.opencl.required")) {
                throw new IOException("OpenCL backend required (tinyedge.opencl.required) but unusable: " + e.getMessage(), e);
            }
            // one line, even for a multi-line build log
            log.warn("OpenCL unusable, running on the CPU instead: {}", e.getMessage().replaceAll("\\s*\\R\\s*", "; "));
            return new CpuBackend(model, contextLength, threads);
        }
    }

    /**
     * The parts of a model's block that the OpenCL kernels do not compute yet: they run llama (Llama 2 and 3),
     * qwen2 and qwen3 blocks, not gemma3's.
     */
    static List<String> missingOperations(ModelConfig c) {
        Features f = c.features();
        List<String> missing = new ArrayList<>();
        if (f.postNorms()) {
            missing.add("post-norms");
        }
        if (f.activation() != Features.Activation.SILU) {
            missing.add("GELU");
        }
        if (f.scaledEmbedding()) {
            missing.add("embedding scale");
        }
        if (c.window().size() > 0) {
            missing.add("sliding-window attention");
        }
        return missing;
    }
}
