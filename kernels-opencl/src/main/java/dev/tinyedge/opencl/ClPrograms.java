package dev.tinyedge.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.lwjgl.opencl.CL10.*;

/**
 * Builds the kernel programs: one kernel per {@code .cl} file under {@code dev/tinyedge/opencl/} on the class
 * path, named as its file, with {@code common.cl} and {@code blocks.cl} in front. Compiling is slow on small
 * boards (seconds per file), so built binaries are kept in a cache folder, keyed by a hash of the source, the
 * build options and the platform, device and driver versions; a binary the driver refuses is rebuilt from
 * source.
 */
public final class ClPrograms implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ClPrograms.class);
    private static final String RESOURCES = "/dev/tinyedge/opencl/";
    /** For the programs that need no tuning: OpenCL C 1.2, which every device takes. */
    static final String BASE_OPTIONS = "-cl-std=CL1.2";

    private final ClContext cl;
    private final Path cacheDir;
    private final Path sourceOverrides;
    private final Map<String, Long> programs = new HashMap<>();
    private final List<Long> kernels = new ArrayList<>();

    /**
     * @param cacheDir        where binaries are kept; null keeps none
     * @param sourceOverrides a folder whose {@code .cl} files replace the bundled ones of the same name
     *                        (kernel development without a rebuild, and the build-failure test); may be null
     */
    public ClPrograms(ClContext cl, Path cacheDir, Path sourceOverrides) {
        this.cl = cl;
        this.cacheDir = cacheDir;
        this.sourceOverrides = sourceOverrides;
    }

    /** The cache folder: -Dtinyedge.cache.dir, else $XDG_CACHE_HOME/tinyedge, else ~/.cache/tinyedge; then opencl/. */
    public static Path defaultCacheDir() {
        String configured = System.getProperty("tinyedge.cache.dir");
        if (configured != null) {
            return Path.of(configured, "opencl");
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("tinyedge").resolve("opencl");
    }

    /** The kernel {@code name} of {@code name.cl} built with {@link #BASE_OPTIONS}. */
    public long kernel(String name) {
        return kernel(name, BASE_OPTIONS);
    }

    /** The kernel {@code name} of {@code name.cl}, building that program with these options on first use. */
    public long kernel(String name, String options) {
        long program = programs.computeIfAbsent(name + ".cl\n" + options, key -> build(name + ".cl", options));
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            long kernel = clCreateKernel(program, name, status);
            ClException.check(status.get(0), "clCreateKernel(" + name + ")");
            kernels.add(kernel);
            return kernel;
        }
    }

    private long build(String file, String options) {
        String source = source("common.cl") + "\n" + source("blocks.cl") + "\n" + source(file);
        Path cached = cacheDir == null ? null
                : cacheDir.resolve(file.replace(".cl", "") + "-" + cacheKey(source, options) + ".bin");
        if (cached != null && Files.isRegularFile(cached)) {
            Long program = fromBinary(file, cached, options);
            if (program != null) {
                return program;
            }
        }
        long started = System.nanoTime();
        long program;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer status = stack.mallocInt(1);
            program = clCreateProgramWithSource(cl.context(), source, status);
            ClException.check(status.get(0), "clCreateProgramWithSource(" + file + ")");
        }
        int built = clBuildProgram(program, cl.device().id(), options, null, 0);
        if (built != CL_SUCCESS) {
            String buildLog = buildLog(program);
            clReleaseProgram(program);
            throw new ClBuildException(file, cl.device().name(), built, buildLog);
        }
        log.info("OpenCL: compiled {} ({}) in {} ms", file, options, (System.nanoTime() - started) / 1_000_000);
        if (cached != null) {
            save(program, cached);
        }
        return program;
    }

    private String source(String file) {
        try {
            if (sourceOverrides != null && Files.isRegularFile(sourceOverrides.resolve(file))) {
                return Files.readString(sourceOverrides.resolve(file));
            }
            try (InputStream in = ClPrograms.class.getResourceAsStream(RESOURCES + file)) {
                if (in == null) {
                    throw new IllegalStateException("kernel source " + RESOURCES + file + " missing from the class path");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String cacheKey(String source, String options) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((cl.device().cacheIdentity() + "\n" + options + "\n" + source).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The program from a cached binary, or null (and the file removed) if the driver will not take it. */
    private Long fromBinary(String file, Path cached, String options) {
        ByteBuffer binary = null;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            byte[] bytes = Files.readAllBytes(cached);
            binary = MemoryUtil.memAlloc(bytes.length).put(0, bytes);
            IntBuffer binaryStatus = stack.mallocInt(1);
            IntBuffer status = stack.mallocInt(1);
            long program = clCreateProgramWithBinary(cl.context(), stack.pointers(cl.device().id()), binary,
                    binaryStatus, status);
            if (status.get(0) == CL_SUCCESS && binaryStatus.get(0) == CL_SUCCESS
                    && clBuildProgram(program, cl.device().id(), options, null, 0) == CL_SUCCESS) {
                log.debug("OpenCL: {} from cache {}", file, cached);
                return program;
            }
            if (status.get(0) == CL_SUCCESS) {
                clReleaseProgram(program);
            }
            log.warn("OpenCL: cached binary {} rejected by the driver; rebuilding {}", cached, file);
            Files.deleteIfExists(cached);
            return null;
        } catch (IOException e) {
            log.warn("OpenCL: cannot read cached binary {} ({}); rebuilding {}", cached, e.getMessage(), file);
            return null;
        } finally {
            MemoryUtil.memFree(binary);
        }
    }

    /** Writes the program's binary to the cache; a cache that cannot be written only costs a rebuild later. */
    private void save(long program, Path cached) {
        ByteBuffer binary = null;
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            ClException.check(clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, size, null), "clGetProgramInfo");
            binary = MemoryUtil.memAlloc((int) size.get(0));
            ClException.check(clGetProgramInfo(program, CL_PROGRAM_BINARIES, stack.pointers(binary), null),
                    "clGetProgramInfo");
            byte[] bytes = new byte[binary.remaining()];
            binary.get(0, bytes);
            Files.createDirectories(cached.getParent());
            Path partial = Files.createTempFile(cached.getParent(), cached.getFileName().toString(), ".partial");
            Files.write(partial, bytes);
            Files.move(partial, cached, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            log.warn("OpenCL: cannot write the kernel cache {} ({}); kernels will be compiled again next time",
                    cached.getParent(), e.getMessage());
        } finally {
            MemoryUtil.memFree(binary);
        }
    }

    private String buildLog(long program) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            clGetProgramBuildInfo(program, cl.device().id(), CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size);
            ByteBuffer text = MemoryUtil.memAlloc((int) Math.max(1, size.get(0)));
            try {
                clGetProgramBuildInfo(program, cl.device().id(), CL_PROGRAM_BUILD_LOG, text, null);
                return OpenCl.cString(text);
            } finally {
                MemoryUtil.memFree(text);
            }
        }
    }

    @Override
    public void close() {
        kernels.forEach(org.lwjgl.opencl.CL10::clReleaseKernel);
        programs.values().forEach(org.lwjgl.opencl.CL10::clReleaseProgram);
        kernels.clear();
        programs.clear();
    }
}
