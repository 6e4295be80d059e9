package dev.tinyedge.opencl;

import dev.tinyedge.backend.Backend;
import dev.tinyedge.backend.CpuBackend;
import dev.tinyedge.model.ModelWeights;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;

/**
 * Makes {@code --backend opencl} backends (registered for {@link java.util.ServiceLoader}). When OpenCL
 * cannot run the model here — no library, no platform or matching device, a kernel that does not
 * build, a device out of memory, a tensor type without kernels — it logs one line and returns the CPU backend, unless
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
        try {
            OpenClBackend backend = OpenClBackend.open(model, contextLength, System.getProperty("tinyedge.opencl.device"));
            log.info("Backend: {}", backend.description());
            return backend;
        } catch (OpenClUnavailableException | ClException e) {
            if (Boolean.getBoolean("tinyedge.opencl.required")) {
                throw new IOException("OpenCL backend required (tinyedge.opencl.required) but unusable: " + e.getMessage(), e);
            }
            // one line, even for a multi-line build log
            log.warn("OpenCL unusable, running on the CPU instead: {}", String.valueOf(e.getMessage()).replaceAll("\\s*\\R\\s*", "; "));
            return new CpuBackend(model, contextLength, threads);
        }
    }
}
